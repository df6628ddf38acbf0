import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { parseMonitoringPolicy } from '../../../src/monitoring/policy.js';
import { keepDaysOf } from '../../../src/retention/plan.js';
import { parseNotifyConfig, sinkTakes } from '../../../src/notify/config.js';
import { ALERT_SEVERITIES, ALERT_TYPES } from '../../../src/alerts/alert-store.js';

/** Any JSON-ish value a hostile or careless file could hold, biased towards the fields the parsers know. */
const anyValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(null, undefined, NaN, Infinity, -1, 0, 1e308, '', '1h', '15m', 'x', [], {}),
);
const champion = fc.record(
  {
    window: anyValue,
    minSamples: anyValue,
    accuracy: fc.record(
      { metric: anyValue, direction: anyValue, warning: anyValue, critical: anyValue },
      { requiredKeys: [] },
    ),
    latency: fc.record(
      { quantile: anyValue, warningMs: anyValue, criticalMs: anyValue },
      { requiredKeys: [] },
    ),
    errorRate: fc.record({ warning: anyValue, critical: anyValue }, { requiredKeys: [] }),
    stability: fc.record({ window: anyValue, maxDrop: anyValue }, { requiredKeys: [] }),
    retrainOnCritical: anyValue,
  },
  { requiredKeys: [] },
);

describe('the monitoring policy and notification parsers take hostile input', () => {
  it('a champion policy parses to ordered tiers, or is refused naming the field and the value', () => {
    fc.assert(
      fc.property(
        fc.oneof(champion, anyValue),
        fc.option(fc.record({ monitor: anyValue }, { requiredKeys: [] })),
        (c, schedules) => {
          let parsed;
          try {
            parsed = parseMonitoringPolicy({ champion: c, ...(schedules ? { schedules } : {}) });
          } catch (err) {
            expect(err).toBeInstanceOf(InvalidInputError);
            expect((err as InvalidInputError).field).toMatch(/^monitoring(\.|$)/);
            return;
          }
          const p = parsed.champion;
          expect(p.accuracy.critical).toBeGreaterThanOrEqual(p.accuracy.warning);
          expect(p.latency.criticalMs).toBeGreaterThanOrEqual(p.latency.warningMs);
          expect(p.errorRate.critical).toBeGreaterThanOrEqual(p.errorRate.warning);
          expect(p.window).toBeGreaterThan(0);
          expect(p.minSamples).toBeGreaterThan(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a retention policy parses to a whole number of days kept, at least a day, or is refused naming the field', () => {
    const retention = fc.record(
      {
        feedbackWindow: fc.oneof(
          anyValue,
          fc.constantFrom('0s', '36h', '3650d', '3651d', '99999999d', '1.5d'),
        ),
        rawDays: fc.oneof(anyValue, fc.integer({ min: -5, max: 4000 })),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(retention, anyValue), (r) => {
        let keep;
        try {
          keep = keepDaysOf(parseMonitoringPolicy({ retention: r }).retention);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidInputError);
          expect((err as InvalidInputError).field).toMatch(/^monitoring(\.retention|$)/);
          return;
        }
        expect(Number.isInteger(keep)).toBe(true);
        expect(keep).toBeGreaterThanOrEqual(1);
        // Ten years of each at most: the plan's dates stay within what a Date can hold.
        expect(keep).toBeLessThanOrEqual(7300);
      }),
      { numRuns: 500 },
    );
  });

  it('a notification file parses to sinks whose filters only name what Arena raises, or is refused', () => {
    const sink = fc.record(
      {
        name: fc.oneof(fc.string(), fc.constantFrom('ops', 'a.b-c_1')),
        url: fc.oneof(fc.webUrl(), anyValue),
        severities: fc.oneof(fc.array(fc.constantFrom(...ALERT_SEVERITIES, 'urgent')), anyValue),
        types: fc.oneof(
          fc.array(
            fc.oneof(
              fc.constantFrom(...Object.keys(ALERT_TYPES), '*', 'retrain_*', 'champion_*', 'toString'),
              fc.string(),
            ),
          ),
          anyValue,
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.array(sink, { maxLength: 3 }), (sinks) => {
        let parsed;
        try {
          parsed = parseNotifyConfig({ sinks }, 'notify.yaml');
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidInputError);
          expect((err as InvalidInputError).field).toMatch(/^notify\.yaml: /);
          return;
        }
        for (const s of parsed.sinks) {
          expect(s.types.length).toBeGreaterThan(0);
          // Every pattern a sink keeps lets at least one of Arena's types through.
          for (const t of s.types)
            expect(
              Object.keys(ALERT_TYPES).some((type) =>
                sinkTakes({ severities: ['info'], types: [t] }, 'info', type),
              ),
            ).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
