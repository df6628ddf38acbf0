import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../../src/policy/duration.js';
import {
  DEFAULT_POLICY,
  parsePolicy,
  parsePolicyText,
  type PolicyInput,
} from '../../../src/policy/policy.js';
import { InvalidInputError } from '../../../src/errors.js';
import { refusal } from '../../support/refusal.js';
import { durationishText, policyishInput, yamlishValue } from '../../support/arbitraries.js';

const DAY = 86_400_000;

describe('parseDuration', () => {
  it('reads units, combinations and decimal fractions as whole milliseconds', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2w')).toBe(14 * DAY);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('0.1s')).toBe(100);
    expect(parseDuration('1.0005s')).toBe(1001); // rounded to a whole millisecond
  });

  it.each([
    '1e3s',
    '',
    's',
    '5',
    '-5s',
    '+5s',
    '.5s',
    '5.s',
    '1h 30m',
    '0x10s',
    'Infinityd',
    '5 seconds',
    '١s',
  ])('refuses %j', (text) => expect(parseDuration(text)).toBeUndefined());

  it('refuses absurd sizes instead of answering Infinity or an imprecise float', () => {
    expect(parseDuration(`${'9'.repeat(400)}s`)).toBeUndefined();
    expect(parseDuration(`${'9'.repeat(30)}ms`)).toBeUndefined();
    expect(parseDuration('9007199254740991ms')).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseDuration('9007199254740992ms')).toBeUndefined();
    expect(parseDuration('1000000000000w')).toBeUndefined();
    expect(parseDuration('1s'.repeat(100))).toBeUndefined(); // longer than any duration needs
  });

  it('answers a safe integer for every text it accepts, and round-trips its own rendering (property)', () => {
    fc.assert(
      fc.property(durationishText, (text) => {
        const ms = parseDuration(text);
        if (ms === undefined) return;
        expect(Number.isSafeInteger(ms)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/.test(text.trim())).toBe(true);
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 * 365 * DAY }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});

describe('policy duration bounds', () => {
  const base: PolicyInput = { stages: [{ mode: 'canary', weight: 50, duration: '1h' }] };
  const cases: Array<[string, PolicyInput, RegExp]> = [
    [
      'analysis.interval at least 100ms',
      { ...base, analysis: { interval: '0s' } },
      /^policy\.analysis\.interval="0s": must be at least 100ms \(got 0s\)$/,
    ],
    [
      'analysis.interval at least 100ms (number)',
      { ...base, analysis: { interval: 50 } },
      /^policy\.analysis\.interval=50: must be at least 100ms \(got 50ms\)$/,
    ],
    [
      'analysis.interval at most 1d',
      { ...base, analysis: { interval: '25h' } },
      /^policy\.analysis\.interval="25h": must be at most 1d \(got 1d1h\)$/,
    ],
    [
      'a stage at least 1s',
      { stages: [{ mode: 'shadow', duration: '0s' }] },
      /^policy\.stages\.0\.duration="0s": must be at least 1s \(got 0s\)$/,
    ],
    [
      'a stage at least 1s (sub-second)',
      {
        stages: [
          { mode: 'shadow', duration: '1h' },
          { mode: 'canary', weight: 5, duration: '500ms' },
        ],
      },
      /^policy\.stages\.1\.duration="500ms": must be at least 1s \(got 500ms\)$/,
    ],
    [
      'a stage at most 365d',
      { stages: [{ mode: 'shadow', duration: '366d' }] },
      /^policy\.stages\.0\.duration="366d": must be at most 365d \(got 366d\)$/,
    ],
    [
      'a stage of millions of days',
      { stages: [{ mode: 'shadow', duration: '5000000d' }] },
      /^policy\.stages\.0\.duration="5000000d": must be at most 365d \(got 5000000d\)$/,
    ],
    [
      'approval.timeout at least 1s',
      { ...base, approval: { timeout: '0s' } },
      /^policy\.approval\.timeout="0s": must be at least 1s \(got 0s\)$/,
    ],
    [
      'approval.timeout at most 365d',
      { ...base, approval: { timeout: '53w' } },
      /^policy\.approval\.timeout="53w": must be at most 365d \(got 371d\)$/,
    ],
    [
      'approval.warnBefore at most 365d',
      { ...base, approval: { warnBefore: '400d' } },
      /^policy\.approval\.warnBefore="400d": must be at most 365d \(got 400d\)$/,
    ],
    [
      'analysis.maxExtension at most 365d',
      { ...base, analysis: { maxExtension: '1000d' } },
      /^policy\.analysis\.maxExtension="1000d": must be at most 365d \(got 1000d\)$/,
    ],
    [
      'watch.duration at most 365d',
      { ...base, watch: { duration: '366d' } },
      /^policy\.watch\.duration="366d": must be at most 365d \(got 366d\)$/,
    ],
    [
      'a negative number of milliseconds',
      { ...base, watch: { duration: -1 } },
      /^policy\.watch\.duration=-1: must be at least 0s \(got -1ms\)$/,
    ],
    [
      'a fractional number of milliseconds',
      { ...base, analysis: { interval: 1500.5 } },
      /^policy\.analysis\.interval=1500\.5: a number is taken as milliseconds and must be a whole number$/,
    ],
    [
      'a duration written with an exponent',
      { ...base, analysis: { interval: '1e3s' } },
      /^policy\.analysis\.interval="1e3s": not a duration/,
    ],
    [
      'a duration too long to be a number',
      { stages: [{ mode: 'shadow', duration: `${'9'.repeat(40)}d` }] },
      /^policy\.stages\.0\.duration="9+d": not a duration/,
    ],
  ];

  it.each(cases)('%s', (_name, input, message) => {
    const err = refusal(() => parsePolicy(input));
    expect(err.message).toMatch(message);
    expect(err.field).toMatch(/^policy\./);
  });

  it('accepts each bound itself, and the short durations the tests and the demo run with', () => {
    const p = parsePolicy({
      approval: { timeout: '1s', warnBefore: '0s' },
      stages: [
        { mode: 'shadow', duration: '1s' },
        { mode: 'canary', weight: 50, duration: '365d' },
      ],
      analysis: { interval: '100ms', maxExtension: '0s' },
      watch: { duration: '0s' },
    });
    expect(p.analysis.interval).toBe(100);
    expect(p.stages.map((s) => s.duration)).toEqual([1000, 365 * DAY]);
    expect(p.watch.duration).toBe(0);
    expect(parsePolicy({ ...base, analysis: { interval: '1d' } }).analysis.interval).toBe(DAY);
    expect(parsePolicy({ ...base, analysis: { interval: '200ms' } }).analysis.interval).toBe(200);
    expect(parsePolicy({ ...base, analysis: { interval: 500 } }).analysis.interval).toBe(500);
    expect(parsePolicy({ ...base, approval: { timeout: '365d', warnBefore: '365d' } }).approval.timeout).toBe(
      365 * DAY,
    );
  });

  it('takes a cap per primary metric, by quantile over a lookback or by value, and the skewness floor', () => {
    expect(DEFAULT_POLICY.analysis.skewnessFactor).toBe(355);
    expect(DEFAULT_POLICY.primaryMetric[0]!.cap).toBeUndefined();
    const capped = (cap: unknown) =>
      parsePolicy({ primaryMetric: { name: 'ape', direction: 'lower', cap } as never }).primaryMetric[0]!.cap;
    expect(capped({ quantile: 0.999 })).toEqual({ quantile: 0.999, lookback: 7 * DAY });
    expect(capped({ quantile: 0.99, lookback: '1d' })).toEqual({ quantile: 0.99, lookback: DAY });
    expect(capped({ value: 250 })).toEqual({ value: 250 });
    expect(refusal(() => capped({ quantile: 0.5 })).message).toMatch(/primaryMetric\.cap.*above 0\.5/);
    expect(refusal(() => capped({ value: 0 })).message).toMatch(/primaryMetric\.cap/);
    expect(refusal(() => capped({ quantile: 0.9, value: 3 })).message).toMatch(/primaryMetric\.cap/);
    expect(refusal(() => capped({ quantile: 0.9, lookback: '30s' })).message).toMatch(/at least 1m/);
    // Inside a union (one metric or a list; a cap by quantile or by value) the error names the field meant.
    expect(
      refusal(() => parsePolicy({ primaryMetric: [{ name: 'ape', direction: 'up' }] as never })).field,
    ).toBe('policy.primaryMetric.0.direction');
    expect(parsePolicy({ analysis: { skewnessFactor: 0 } }).analysis.skewnessFactor).toBe(0);
    expect(refusal(() => parsePolicy({ analysis: { skewnessFactor: -1 } })).field).toBe(
      'policy.analysis.skewnessFactor',
    );
  });

  it('takes a per-segment check: top K, minimum samples, margin, block or partial adoption by routing key', () => {
    expect(DEFAULT_POLICY.segments).toBeUndefined();
    const accuracy = { name: 'correct', direction: 'higher' as const, minImprovement: 0.02 };
    expect(parsePolicy({ primaryMetric: accuracy, segments: {} }).segments).toEqual({
      top: 20,
      minSamples: 200,
      margin: 0,
      onWorse: 'block',
    });
    const partial = parsePolicy({
      primaryMetric: accuracy,
      segments: { key: 'origin', onWorse: 'partial', top: 50 },
    }).segments!;
    expect([partial.key, partial.onWorse, partial.top]).toEqual(['origin', 'partial', 50]);
    const refused = (segments: unknown) =>
      refusal(() => parsePolicy({ primaryMetric: accuracy, segments } as never));
    expect(refused({ onWorse: 'partial' }).field).toBe('policy.segments.key');
    expect(refused({ metric: 'latency_ms' }).message).toMatch(/latency_ms is not kept per segment/);
    expect(refused({ metric: 'revenue' }).message).toMatch(
      /primary metric from Arena's records \(correct\); got revenue/,
    );
    expect(refused({ top: 101 }).field).toBe('policy.segments.top');
    expect(refused({ key: 'a b' }).field).toBe('policy.segments.key');
    expect(refused({ onWorse: 'ignore' }).field).toBe('policy.segments.onWorse');
  });

  it('keeps the defaults valid', () => {
    expect(DEFAULT_POLICY.analysis.interval).toBe(60_000);
    expect(DEFAULT_POLICY.stages.map((s) => s.duration)).toEqual([72 * 3_600_000, 7 * DAY, DAY]);
  });
});

describe('parsePolicy and parsePolicyText on arbitrary input (property)', () => {
  /** Parses, and on refusal checks the error is an InvalidInputError naming a field under `policy`. */
  const check = (fn: () => unknown, source = 'policy') => {
    let parsed: unknown;
    try {
      parsed = fn();
    } catch (err) {
      expect(err, String(err)).toBeInstanceOf(InvalidInputError);
      const field = (err as InvalidInputError).field;
      // A YAML syntax error names the file; a wrong value names its path in the policy.
      const named = [source, 'policy'].some((root) => field === root || field.startsWith(`${root}.`));
      expect(named, field).toBe(true);
      expect((err as InvalidInputError).message.startsWith(`${field}=`)).toBe(true);
      return undefined;
    }
    return parsed as ReturnType<typeof parsePolicy>;
  };
  /** Every duration of an accepted policy is a whole number of milliseconds within its bounds. */
  const durationsWithinBounds = (p: ReturnType<typeof parsePolicy>) => {
    const within = (ms: number, min: number, max: number) => {
      expect(Number.isSafeInteger(ms)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(min);
      expect(ms).toBeLessThanOrEqual(max);
    };
    within(p.approval.timeout, 1000, 365 * DAY);
    within(p.approval.warnBefore, 0, 365 * DAY);
    within(p.analysis.interval, 100, DAY);
    within(p.analysis.maxExtension, 0, 365 * DAY);
    within(p.watch.duration, 0, 365 * DAY);
    for (const s of p.stages) within(s.duration, 1000, 365 * DAY);
    for (const m of p.primaryMetric)
      if (m.cap && 'lookback' in m.cap) within(m.cap.lookback, 60_000, 90 * DAY);
  };

  it('never throws anything but InvalidInputError with a field path (objects)', () => {
    fc.assert(
      fc.property(policyishInput, (input) => {
        const p = check(() => parsePolicy(input));
        if (p) durationsWithinBounds(p);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives back an accepted policy unchanged when parsed again, so every rollout start can re-parse (property)', () => {
    fc.assert(
      fc.property(policyishInput, (input) => {
        const p = check(() => parsePolicy(input));
        if (p) expect(parsePolicy(p)).toEqual(p);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws anything but InvalidInputError with a field path (YAML and JSON text)', () => {
    const text = fc.oneof(
      policyishInput.map((v) => {
        try {
          return stringify(v);
        } catch {
          return '{}';
        }
      }),
      policyishInput.map((v) => JSON.stringify(v) ?? 'null'),
      fc.string({ maxLength: 60 }),
      fc.string({
        unit: fc.constantFrom('a', ':', ' ', '\n', '-', '[', ']', '{', '}', '&', '*', '!', '1', 's', '"'),
        maxLength: 40,
      }),
    );
    fc.assert(
      fc.property(text, (t) => {
        const p = check(() => parsePolicyText(t, 'rollout.yaml'), 'rollout.yaml');
        if (p) durationsWithinBounds(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('a single duration field either parses to a whole number of ms within bounds or is refused (property)', () => {
    fc.assert(
      fc.property(fc.oneof(durationishText, yamlishValue), (interval) => {
        const p = check(() =>
          parsePolicy({ stages: [{ mode: 'shadow', duration: '1m' }], analysis: { interval } as never }),
        );
        if (p) {
          expect(Number.isSafeInteger(p.analysis.interval)).toBe(true);
          expect(p.analysis.interval).toBeGreaterThanOrEqual(100);
          expect(p.analysis.interval).toBeLessThanOrEqual(DAY);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses self-referencing YAML (aliases) with an InvalidInputError, not a TypeError', () => {
    const err = refusal(() => parsePolicyText('stages: &x [*x]'));
    expect(err.field).toBe('policy.stages.0');
    expect(err.message).toMatch(/not shown/);
    expect(refusal(() => parsePolicyText('approval: &x { approvers: *x }')).field).toMatch(
      /^policy\.approval/,
    );
  });

  it('names the policy itself when the document is not an object', () => {
    expect(refusal(() => parsePolicyText('just text')).field).toBe('policy');
    expect(refusal(() => parsePolicy([1, 2])).field).toBe('policy');
  });
});

describe('policy text', () => {
  it('refuses an unknown YAML tag instead of reading its value as text', () => {
    expect(() => parsePolicyText('analysis:\n  interval: !dur 5m\n')).toThrow(/not valid YAML or JSON.*tag/i);
    expect(parsePolicyText('analysis:\n  interval: 5m\n').analysis.interval).toBe(300_000);
  });

  it('reads a guardrail from a Prometheus source: events and total as PromQL templates, checked by name', () => {
    const prom = { prom: { type: 'prometheus', address: 'http://prometheus:9090' } };
    const g = {
      metric: 'http_error_rate',
      source: 'prom',
      events: 'sum(e{v="{{version}}"})',
      total: 'sum(t)',
      max: 0.01,
    };
    const ok = parsePolicy({ metricSources: prom, guardrails: [g] } as never);
    expect(ok.metricSources).toEqual(prom);
    expect(ok.guardrails[0]).toMatchObject(g);
    expect(parsePolicy({}).metricSources).toEqual({});
    const field = (p: unknown) => refusal(() => parsePolicy(p as never));
    expect(field({ metricSources: { prom: { type: 'datadog', address: 'http://x' } } }).field).toBe(
      'policy.metricSources.prom.type',
    );
    expect(field({ metricSources: { prom: { type: 'prometheus', address: 'prom:9090' } } }).message).toMatch(
      /metricSources\.prom\.address.*http\(s\) URL/,
    );
    expect(field({ metricSources: prom, guardrails: [{ ...g, source: 'promx' }] }).message).toMatch(
      /^policy\.guardrails\.0\.source="promx": no metric source of that name in metricSources \(prom\)/,
    );
    expect(field({ metricSources: prom, guardrails: [{ ...g, events: 'x{v="{{ver}}"}' }] }).message).toMatch(
      /^policy\.guardrails\.0\.events=.*unknown placeholder \{\{ver\}\}/,
    );
    const { total: _t, ...noTotal } = g;
    expect(field({ metricSources: prom, guardrails: [noTotal] }).field).toBe('policy.guardrails.0.total');
    expect(field({ metricSources: prom, guardrails: [{ ...g, metric: 'error' }] }).message).toMatch(
      /Arena's own metric/,
    );
    expect(field({ metricSources: prom, guardrails: [{ ...g, quantile: 0.95 }] }).message).toMatch(
      /^policy\.guardrails\.0\.events=.*give buckets, not events and total/,
    );
    const latency = {
      metric: 'http_latency_seconds',
      source: 'prom',
      quantile: 0.95,
      buckets: 'sum by (le) (increase(h_bucket{v="{{version}}"}[{{window}}]))',
      rollbackRelativeIncrease: 1,
    };
    expect(parsePolicy({ metricSources: prom, guardrails: [latency] } as never).guardrails[0]).toMatchObject(
      latency,
    );
    const { buckets: _b, ...noBuckets } = latency;
    expect(field({ metricSources: prom, guardrails: [noBuckets] }).message).toMatch(
      /^policy\.guardrails\.0\.buckets=undefined: a Prometheus quantile guardrail needs buckets/,
    );
    const { quantile: _q, ...noQuantile } = latency;
    expect(field({ metricSources: prom, guardrails: [noQuantile] }).message).toMatch(
      /^policy\.guardrails\.0\.buckets=.*give quantile/,
    );
    expect(
      field({ metricSources: prom, guardrails: [{ ...latency, buckets: 'h{v="{{vers}}"}' }] }).message,
    ).toMatch(/unknown placeholder \{\{vers\}\}/);
    // An additional primary metric read from Prometheus: a rate, beside one from Arena's records.
    const conversion = {
      name: 'conversion',
      direction: 'higher',
      source: 'prom',
      events: 'sum(c{v="{{version}}"})',
      total: 'sum(t{v="{{version}}"})',
    };
    const arenas = { name: 'abs_error', direction: 'lower' };
    expect(
      parsePolicy({ metricSources: prom, primaryMetric: [arenas, conversion] } as never).primaryMetric[1],
    ).toMatchObject(conversion);
    expect(field({ metricSources: prom, primaryMetric: conversion }).message).toMatch(
      /^policy\.primaryMetric\.source="prom": a primary metric from a metric source is an additional one/,
    );
    const { total: _pt, ...noPrimaryTotal } = conversion;
    expect(field({ metricSources: prom, primaryMetric: [arenas, noPrimaryTotal] }).field).toBe(
      'policy.primaryMetric.1.total',
    );
    expect(
      field({ metricSources: prom, primaryMetric: [arenas, { ...conversion, source: 'nope' }] }).message,
    ).toMatch(/^policy\.primaryMetric\.1\.source="nope": no metric source of that name/);
    expect(
      field({ metricSources: prom, primaryMetric: [arenas, { ...conversion, cap: { value: 5 } }] }).field,
    ).toBe('policy.primaryMetric.1.cap');
    expect(field({ primaryMetric: [{ ...arenas, events: 'sum(e)' }] }).message).toMatch(/needs a source/);
    expect(field({ guardrails: [{ metric: 'x', quantile: 0.9, buckets: 'h', max: 1 }] }).message).toMatch(
      /^policy\.guardrails\.0\.buckets=.*needs a source/,
    );
    expect(field({ guardrails: [{ metric: 'x', events: 'sum(e)', max: 1 }] }).message).toMatch(
      /needs a source/,
    );
  });
});
