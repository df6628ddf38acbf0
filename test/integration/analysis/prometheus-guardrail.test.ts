import { Counter, Histogram, Registry } from 'prom-client';
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
  const conversions = new Counter({
    name: 'http_conversions_total',
    help: 'conversions',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_latency_seconds',
    help: 'latency',
    labelNames: ['model', 'version'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
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
  const LATENCY = {
    metric: 'http_latency_p95',
    source: 'prom',
    quantile: 0.95,
    buckets: 'sum by (le) (http_latency_seconds_bucket{model="{{model}}",version="{{version}}"})',
    max: 0.5,
    rollbackRelativeIncrease: 1.0,
  };
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
    // conversion: the challenger converts 13 % of its requests, the champion 10 %; conversion-worse: 7 %.
    for (const [model, rate] of [
      ['conversion', 0.13],
      ['conversion-worse', 0.07],
    ] as const) {
      requests.inc({ model, version: '1.0.0' }, 50_000);
      conversions.inc({ model, version: '1.0.0' }, 5_000);
      requests.inc({ model, version: '1.1.0' }, 20_000);
      conversions.inc({ model, version: '1.1.0' }, 20_000 * rate);
    }
    // slow-p95: the challenger's latencies are the champion's doubled; its champion is fraud-ok's.
    for (let i = 0; i < 2000; i++) {
      const ms = 5 + ((i * 7919) % 2000) / 20; // 5–105 ms, spread evenly
      latency.observe({ model: 'slow-p95', version: '1.0.0' }, ms / 1000);
      latency.observe({ model: 'slow-p95', version: '1.1.0' }, (2 * ms) / 1000);
      latency.observe({ model: 'fast-p95', version: '1.0.0' }, ms / 1000);
      latency.observe({ model: 'fast-p95', version: '1.1.0' }, (ms * 1.05) / 1000);
    }
    prometheus = await startPrometheusScraping(registry);
    for (let i = 0; i < 100; i++) {
      const res = (await (
        await fetch(`${prometheus.url}/api/v1/query?query=count(http_requests_total)`)
      ).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      if (res.data.result[0]?.value[1] === '8') break;
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

  it('rolls back on a p95 latency that doubled in a Prometheus histogram, and passes one that did not', async () => {
    const p95 = async (model: string, address = prometheus.url) => {
      const i = input(model, address);
      i.policy = parsePolicy({ ...i.policy, analysis: { minSamples: 100 }, guardrails: [LATENCY] } as never);
      const verdict = await analyze(i, rollupMetricSource(db.knex, 1000), () => new Date());
      const g = (verdict.details as GateResult).guardrails.find((x) =>
        x.metric.startsWith('http_latency_p95'),
      )!;
      return { verdict, g };
    };
    const slow = await p95('slow-p95');
    expect(slow.g.status).toBe('fail');
    expect(slow.verdict.action).toBe('rollback');
    // The sample behind each quantile is the histogram's count.
    expect(slow.g.champion).toMatchObject({ n: 2000 });
    expect(slow.g.challenger).toMatchObject({ n: 2000 });
    const seconds = (x: unknown) => (x as { value: number }).value;
    // The champion's p95 of 5–105 ms read from buckets [0.05, 0.1]: about 0.1 s, the challenger's twice it.
    expect(seconds(slow.g.champion)).toBeGreaterThan(0.08);
    expect(seconds(slow.g.challenger) / seconds(slow.g.champion)).toBeGreaterThan(2);
    const fast = await p95('fast-p95');
    expect(fast.g.status).toBe('pass');
    // A source that is down waits, says why, and is counted as a source error.
    const down = await p95('fast-p95', 'http://127.0.0.1:1');
    expect(down.g.status).toBe('waiting');
    expect(down.verdict.sourceErrors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^http_latency_p95: no data from Prometheus \(prom\) for the champion 1\.0\.0: buckets: Prometheus at http:\/\/127\.0\.0\.1:1 did not answer/,
        ),
      ]),
    );
    // Not recorded yet is not an error: it waits without counting towards consecutiveErrorLimit.
    const none = await p95('never-served');
    expect(none.g.status).toBe('waiting');
    expect(none.verdict.sourceErrors).toBeUndefined();
    expect(none.verdict.reasons).toContainEqual(expect.stringMatching(/buckets: no series/));
  });

  it('compares an additional primary metric read from Prometheus as a proportion, beside Arena’s own', async () => {
    const conversion = {
      name: 'conversion',
      direction: 'higher',
      minImprovement: 0.1,
      rollbackRelativeDegradation: 0.1,
      source: 'prom',
      events: 'sum(http_conversions_total{model="{{model}}",version="{{version}}"})',
      total: TOTAL,
    };
    const primary = async (model: string, address = prometheus.url) => {
      const i = input(model, address);
      i.policy = parsePolicy({
        ...i.policy,
        analysis: { minSamples: 100 },
        guardrails: [],
        primaryMetric: [{ name: 'abs_error', direction: 'lower' }, conversion],
      } as never);
      const verdict = await analyze(i, rollupMetricSource(db.knex, 1000), () => new Date());
      const gate = verdict.details as GateResult;
      return { verdict, m: gate.metrics.find((x) => x.metric === 'conversion')! };
    };
    const better = await primary('conversion');
    expect(better.m.status).toBe('pass');
    expect(better.m.challenger).toMatchObject({ n: 20_000, value: 0.13 });
    expect(better.m.champion).toMatchObject({ n: 50_000, value: 0.1 });
    expect(better.m.improvement.estimate).toBeCloseTo(0.3, 2);
    const worse = await primary('conversion-worse');
    expect(worse.m.status).toBe('fail');
    expect(worse.verdict.action).toBe('rollback');
    // No data: the metric waits (and Arena's abs_error, with nothing recorded, waits too): never a pass.
    const down = await primary('conversion', 'http://127.0.0.1:1');
    expect(down.m.status).toBe('waiting');
    expect(down.verdict.decision).toBe('waiting');
    expect(down.verdict.sourceErrors?.[0]).toMatch(/^conversion: no data from Prometheus/);
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
    const withLatency = (buckets: string) =>
      parsePolicy({ ...policy(prometheus.url), guardrails: [{ ...LATENCY, buckets }] } as never);
    expect(await refused(withLatency(LATENCY.buckets))).toBeUndefined();
    const several = await refused(withLatency('http_latency_seconds_bucket'));
    expect((several as InvalidInputError).field).toBe('policy.guardrails.0.buckets');
    expect((several as Error).message).toMatch(/buckets of several histograms/);
    const primaryTypo = await refused(
      parsePolicy({
        ...policy(prometheus.url),
        primaryMetric: [
          { name: 'abs_error', direction: 'lower' },
          { name: 'conversion', direction: 'higher', source: 'prom', events: 'sum(x', total: TOTAL },
        ],
      } as never),
    );
    expect((primaryTypo as InvalidInputError).field).toBe('policy.primaryMetric.1.events');
    const gone = await refused(policy('http://127.0.0.1:1'));
    expect((gone as InvalidInputError).hint).toMatch(/metricSources\.prom\.address/);
  });
});
