import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../src/analysis/analyze.js';
import type { AnalyzeInput } from '../../../src/analysis/analyze-input.js';
import { rollupMetricSource } from '../../../src/analysis/rollup-source.js';
import { InvalidInputError } from '../../../src/errors.js';
import { parsePolicy } from '../../../src/policy/policy.js';
import { checkMetricSources } from '../../../src/rollout/check-metric-sources.js';
import type { GateResult } from '../../../src/stats/gate/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { startPrometheusScraping, type TestPrometheus } from '../../support/prometheus.js';

const EVENTS = 'sum(http_errors_total{model="{{model}}",version="{{version}}"})';
const TOTAL = 'sum(http_requests_total{model="{{model}}",version="{{version}}"})';

/**
 * A guardrail read from a real Prometheus (Debian's package) that scrapes a serving process's prom-client
 * counters: its rate per arm goes through the same test as Arena's own error rate; no data never passes;
 * a query Prometheus refuses stops a rollout before it starts.
 */
describe('Prometheus guardrails (real server, real rollup source)', () => {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'requests',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'http_errors_total',
    help: 'errors',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  let prometheus: TestPrometheus;
  let db: TestDatabase;

  const policy = (address: string, events = EVENTS) =>
    parsePolicy({
      stages: [{ mode: 'canary', weight: 50, duration: '1h' }],
      analysis: { minSamples: 100 },
      metricSources: { prom: { type: 'prometheus', address } },
      guardrails: [
        { metric: 'http_error_rate', source: 'prom', events, total: TOTAL, max: 0.01, rollbackAbove: 0.05 },
      ],
    });
  const input = (model: string, address: string): AnalyzeInput => {
    const to = new Date();
    return {
      tenantId: 'default',
      rolloutId: `r-${model}`,
      seq: 1,
      stageIndex: 0,
      mode: 'canary',
      model,
      champion: '1.0.0',
      challenger: '1.1.0',
      windows: [
        {
          index: 0,
          from: new Date(to.getTime() - 60_000).toISOString(),
          to: to.toISOString(),
          mode: 'canary',
        },
      ],
      policy: policy(address),
    };
  };
  const guardrail = async (model: string, address = prometheus.url) => {
    const verdict = await analyze(input(model, address), rollupMetricSource(db.knex, 1000), () => new Date());
    return {
      verdict,
      g: (verdict.details as GateResult).guardrails.find((x) => x.metric === 'http_error_rate')!,
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase('prometheus_guardrail');
    // fraud-bad: the challenger fails 15 % of its requests; fraud-ok: 0.2 %, like its champion.
    for (const [model, challengerErrors] of [
      ['fraud-bad', 3000],
      ['fraud-ok', 40],
    ] as const) {
      requests.inc({ model, version: '1.0.0' }, 50_000);
      errors.inc({ model, version: '1.0.0' }, 100);
      requests.inc({ model, version: '1.1.0' }, 20_000);
      errors.inc({ model, version: '1.1.0' }, challengerErrors);
    }
    prometheus = await startPrometheusScraping(registry);
    for (let i = 0; i < 100; i++) {
      const res = (await (
        await fetch(`${prometheus.url}/api/v1/query?query=count(http_requests_total)`)
      ).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      if (res.data.result[0]?.value[1] === '4') break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 360_000);
  afterAll(async () => {
    await prometheus?.stop();
    await db?.drop();
  });

  it('rolls back on a challenger whose error rate in Prometheus passes the rollback limit', async () => {
    const { verdict, g } = await guardrail('fraud-bad');
    expect(g.status).toBe('fail');
    expect(g.challenger).toMatchObject({ n: 20_000 });
    expect(verdict).toMatchObject({ decision: 'fail', action: 'rollback' });
  });

  it('passes a healthy challenger on the same test as Arena’s own error rate', async () => {
    const { g } = await guardrail('fraud-ok');
    expect(g.status).toBe('pass');
    expect(g.champion).toMatchObject({ n: 50_000 });
  });

  it('waits, and says why, when Prometheus does not answer: no data never passes', async () => {
    const { verdict, g } = await guardrail('fraud-ok', 'http://127.0.0.1:1');
    expect(g.status).toBe('waiting');
    expect(verdict.decision).toBe('waiting');
    expect(verdict.reasons).toContainEqual(
      expect.stringMatching(
        /^http_error_rate: no data from Prometheus \(prom\) for the champion 1\.0\.0: events: Prometheus at http:\/\/127\.0\.0\.1:1 did not answer/,
      ),
    );
  });

  it('refuses to start a rollout whose query Prometheus refuses, naming the field and the position', async () => {
    const refused = (p: ReturnType<typeof policy>) =>
      checkMetricSources(p, { model: 'fraud-ok', champion: '1.0.0' }).then(
        () => undefined,
        (err: unknown) => err,
      );
    await expect(
      checkMetricSources(policy(prometheus.url), { model: 'fraud-ok', champion: '1.0.0' }),
    ).resolves.toBeUndefined();
    const syntax = await refused(policy(prometheus.url, 'sum(http_errors_total{version="{{version}}"}'));
    expect(syntax).toBeInstanceOf(InvalidInputError);
    expect((syntax as InvalidInputError).message).toMatch(
      /^policy\.guardrails\.0\.events=".*": bad_data: .*1:\d+: parse error/,
    );
    const ambiguous = await refused(policy(prometheus.url, 'http_errors_total'));
    expect((ambiguous as Error).message).toMatch(/ambiguous query: 4 series/);
    const gone = await refused(policy('http://127.0.0.1:1'));
    expect((gone as InvalidInputError).hint).toMatch(/metricSources\.prom\.address/);
  });
});
