import { Counter, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArenaClient } from '../../src/client/arena-client.js';
import type { PolicyInput } from '../../src/policy/policy.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { startTraffic } from '../../src/simulate/traffic.js';
import type { TestDatabase } from '../support/database.js';
import { startPrometheusScraping, type TestPrometheus } from '../support/prometheus.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * Whole rollouts on a real Temporal server whose error guardrail is read from a real Prometheus, which
 * scrapes the serving process's per-version request and error counters (prom-client) every second.
 */
describe('rollouts judged on a Prometheus guardrail (real Temporal, real Prometheus)', () => {
  const registry = new Registry();
  const requests = new Counter({
    name: 'svc_requests_total',
    help: 'r',
    labelNames: ['model', 'version'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'svc_errors_total',
    help: 'e',
    labelNames: ['model', 'version'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'svc_latency_seconds',
    help: 'l',
    labelNames: ['model', 'version'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  /** Error rate per model and version the simulated serving process exports. */
  const errorRates = new Map<string, number>();
  /** How much slower than the base latencies (5–105 ms) a model's version serves. */
  const slowdown = new Map<string, number>();
  let ticker: NodeJS.Timeout;
  let prometheus: TestPrometheus;
  let db: TestDatabase;
  let stack: TestStack;
  let arena: ArenaClient;

  const policy = (): PolicyInput => ({
    approval: { required: false },
    stages: [{ mode: 'canary', weight: 50, duration: '6s' }],
    analysis: { interval: '1s', minSamples: 40, maxExtension: '6s', alpha: 0.05, tuningN: 500 },
    primaryMetric: {
      name: 'abs_error',
      direction: 'lower',
      minImprovement: 0.02,
      rollbackRelativeDegradation: 0.05,
    },
    metricSources: { prom: { type: 'prometheus', address: prometheus.url } },
    guardrails: [
      {
        metric: 'svc_error_rate',
        source: 'prom',
        events: 'sum(increase(svc_errors_total{model="{{model}}",version="{{version}}"}[{{window}}]))',
        total: 'sum(increase(svc_requests_total{model="{{model}}",version="{{version}}"}[{{window}}]))',
        max: 0.02,
        rollbackAbove: 0.05,
      },
    ],
    onInconclusive: 'rollback',
    watch: { duration: '1s', rollbackOnRelativeDegradation: 0.5 },
  });
  /** The same policy with p95 latency read from the serving process's histogram as well. */
  const withLatency = (): PolicyInput => {
    const p = policy();
    return {
      ...p,
      guardrails: [
        ...p.guardrails!,
        {
          metric: 'svc_latency',
          source: 'prom',
          quantile: 0.95,
          buckets:
            'sum by (le) (increase(svc_latency_seconds_bucket{model="{{model}}",version="{{version}}"}[{{window}}]))',
          max: 0.5,
          rollbackRelativeIncrease: 0.5,
        },
      ],
    };
  };

  async function model(name: string, rates: Record<string, number>, slower: Record<string, number> = {}) {
    const versions = Object.keys(rates);
    for (const v of versions) {
      await registerVersion(db.knex, { model: name, version: v, actor: 'setup' });
      slowdown.set(`${name}\u0000${v}`, slower[v] ?? 1);
      errorRates.set(`${name}\u0000${v}`, rates[v]!);
    }
    await setChampion(db.knex, { model: name, version: versions[0]!, actor: 'setup' });
    // Arena's own records carry the primary metric; the challenger forecasts better in both models.
    return startTraffic({
      databaseUrl: db.url,
      model: name,
      profiles: { [versions[0]!]: { noise: 10 }, [versions[1]!]: { noise: 6 } },
      ratePerSecond: 300,
    });
  }

  beforeAll(async () => {
    // 200 requests a second per version, failing at its rate (deterministically, so the counts are exact).
    ticker = setInterval(() => {
      for (const [key, rate] of errorRates) {
        const [m, version] = key.split('\u0000') as [string, string];
        requests.inc({ model: m, version }, 20);
        errors.inc({ model: m, version }, Math.round(20 * rate));
        const factor = slowdown.get(key) ?? 1;
        for (let i = 0; i < 20; i++) latency.observe({ model: m, version }, (factor * (5 + i * 5)) / 1000);
      }
    }, 100);
    prometheus = await startPrometheusScraping(registry);
    stack = await startTestStack('prometheus_rollout', 'prom');
    ({ db, arena } = stack);
  }, 360_000);
  afterAll(async () => {
    clearInterval(ticker);
    await stack?.stop();
    await prometheus?.stop();
  });

  it('rolls back a challenger whose error rate in Prometheus passes the rollback limit', async () => {
    const traffic = await model('prom-bad', { '1.0.0': 0, '1.1.0': 0.1 });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'prom-bad',
        challenger: '1.1.0',
        policy: policy(),
        proposedBy: 'dana',
      });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('rolled_back');
      expect(final.decision).toMatch(/svc_error_rate/);
    } finally {
      await traffic.stop();
    }
  }, 120_000);

  it('promotes a challenger that is better on Arena’s records and healthy in Prometheus', async () => {
    const traffic = await model('prom-ok', { '2.0.0': 0, '2.1.0': 0 });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'prom-ok',
        challenger: '2.1.0',
        policy: policy(),
        proposedBy: 'dana',
      });
      const final = await arena.result(rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.reasons)).toBe('promoted');
      // The final decision judged it (the watch without holdback has no concurrent control to read it for).
      const analyses = (await db
        .knex('analyses')
        .where({ rollout_id: rolloutId })
        .orderBy('seq')
        .pluck('result')) as Array<{ mode: string; details: { guardrails: Array<Record<string, unknown>> } }>;
      const final_ = analyses.find((a) => a.mode === 'final')!;
      const guardrail = final_.details.guardrails.find((g) => g.metric === 'svc_error_rate') as {
        status: string;
        challenger: { n: number };
      };
      expect(guardrail.status).toBe('pass');
      expect(guardrail.challenger.n).toBeGreaterThan(100);
    } finally {
      await traffic.stop();
    }
  }, 120_000);

  it('rolls back a challenger whose p95 latency doubles in Prometheus, read from the histogram’s buckets', async () => {
    const traffic = await model('prom-slow', { '4.0.0': 0, '4.1.0': 0 }, { '4.1.0': 2 });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'prom-slow',
        challenger: '4.1.0',
        policy: withLatency(),
        proposedBy: 'dana',
      });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('rolled_back');
      expect(final.decision).toMatch(/svc_latency p95/);
      const g = (
        final.lastAnalysis?.details as { guardrails: Array<Record<string, unknown>> }
      ).guardrails.find((x) => x.metric === 'svc_latency@q0.95') as {
        status: string;
        champion: { n: number; value: number };
        challenger: { n: number; value: number };
      };
      expect(g.status).toBe('fail');
      expect(g.challenger.value / g.champion.value).toBeGreaterThan(1.5);
      expect(g.challenger.n).toBeGreaterThanOrEqual(40);
    } finally {
      await traffic.stop();
    }
  }, 120_000);

  it('promotes with a healthy p95 in Prometheus, the latency guardrail passing in the final decision', async () => {
    const traffic = await model('prom-fast', { '5.0.0': 0, '5.1.0': 0 });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'prom-fast',
        challenger: '5.1.0',
        policy: withLatency(),
        proposedBy: 'dana',
      });
      const final = await arena.result(rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.reasons)).toBe('promoted');
      const analyses = (await db
        .knex('analyses')
        .where({ rollout_id: rolloutId, decision: 'pass' })
        .pluck('result')) as Array<{
        mode: string;
        details: { guardrails: Array<{ metric: string; status: string }> };
      }>;
      const decided = analyses.find((a) => a.mode === 'final')!;
      expect(decided.details.guardrails.find((g) => g.metric === 'svc_latency@q0.95')?.status).toBe('pass');
    } finally {
      await traffic.stop();
    }
  }, 120_000);

  it('pauses with an alert when Prometheus stops mid-canary, and finishes once it is back and a person resumes', async () => {
    const traffic = await model('prom-down', { '6.0.0': 0, '6.1.0': 0 });
    const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
      for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
        const found = await probe();
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`timed out waiting for ${what}`);
    };
    try {
      const p = policy();
      const { rolloutId } = await arena.startRollout({
        model: 'prom-down',
        challenger: '6.1.0',
        policy: {
          ...p,
          stages: [{ mode: 'canary', weight: 50, duration: '12s' }],
          analysis: { ...p.analysis, consecutiveErrorLimit: 3 },
        },
        proposedBy: 'dana',
      });
      await waitFor('the canary to analyse', async () => {
        const s = await arena.status(rolloutId);
        return s.state === 'canary' && (s.lastAnalysis?.samples.challenger ?? 0) > 0 ? s : undefined;
      });
      await prometheus.interrupt();
      const paused = await waitFor('the pause', async () => {
        const s = await arena.status(rolloutId);
        // The pause is taken, then alerted and recorded: wait for its event.
        return s.paused && s.events.at(-1)?.type === 'paused' ? s : undefined;
      });
      expect(paused.state).toBe('canary');
      expect(paused.events.at(-1)).toMatchObject({ type: 'paused', actor: 'arena' });
      expect(paused.events.at(-1)?.reason).toMatch(
        /^metric source failing in 3 analyses in a row \(consecutiveErrorLimit 3\): svc_error_rate: no data from Prometheus \(prom\) .*did not answer/,
      );
      const alert = await db
        .knex('alerts')
        .where({ rollout_id: rolloutId, type: 'metric_source_failing' })
        .first();
      expect(alert).toMatchObject({ severity: 'critical' });
      // The analyses said "no data" with the reason, never a pass.
      const outage = (await db
        .knex('analyses')
        .where({ rollout_id: rolloutId })
        .orderBy('seq', 'desc')
        .limit(3)
        .pluck('result')) as Array<{ decision: string; sourceErrors?: string[] }>;
      for (const a of outage) {
        expect(a.decision).not.toBe('pass');
        expect(a.sourceErrors?.[0]).toMatch(/did not answer/);
      }
      // Paused, nothing moves: no more analyses while Prometheus is down.
      await new Promise((r) => setTimeout(r, 2_000));
      expect((await arena.status(rolloutId)).lastAnalysis?.seq).toBe(paused.lastAnalysis?.seq);

      await prometheus.restart();
      await arena.resume(rolloutId, { by: 'dana', reason: 'Prometheus is back' });
      const final = await arena.result(rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.reasons)).toBe('promoted');
      const after = (
        (await db.knex('analyses').where({ rollout_id: rolloutId }).pluck('result')) as Array<{
          mode: string;
          sourceErrors?: string[];
          details: { guardrails: Array<{ metric: string; status: string }> };
        }>
      ).filter((a) => a.mode === 'final');
      expect(after[0]?.sourceErrors).toBeUndefined();
      expect(after[0]?.details.guardrails.find((g) => g.metric === 'svc_error_rate')?.status).toBe('pass');
    } finally {
      await traffic.stop();
    }
  }, 180_000);

  it('refuses to start with a query Prometheus refuses: nothing is started', async () => {
    await registerVersion(db.knex, { model: 'prom-typo', version: '3.0.0', actor: 'setup' });
    await registerVersion(db.knex, { model: 'prom-typo', version: '3.1.0', actor: 'setup' });
    await setChampion(db.knex, { model: 'prom-typo', version: '3.0.0', actor: 'setup' });
    const p = policy();
    p.guardrails = [{ ...p.guardrails![0]!, total: 'sum(rate(svc_requests_total[{{window}}])' }];
    await expect(
      arena.startRollout({ model: 'prom-typo', challenger: '3.1.0', policy: p, proposedBy: 'dana' }),
    ).rejects.toThrow(/^policy\.guardrails\.0\.total=.*parse error/);
    const started = await db.knex('rollouts').where({ model: 'prom-typo' }).count({ n: '*' }).first();
    expect(Number(started?.n)).toBe(0);
  });
});
