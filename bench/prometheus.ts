import { Counter, Histogram, Registry } from 'prom-client';
import { analyze } from '../src/analysis/analyze.js';
import type { AnalyzeInput } from '../src/analysis/analyze-input.js';
import { rollupMetricSource } from '../src/analysis/rollup-source.js';
import { createRecorder } from '../src/ingest/recorder.js';
import { parsePolicy } from '../src/policy/policy.js';
import { registerVersion } from '../src/registry/registry.js';
import { startPrometheusScraping } from '../test/support/prometheus.js';
import { createBenchDatabase } from './bench-database.js';
import { benchResult, type BenchResult } from './result.js';

const ROUNDS = 300;
const quantile = (xs: number[], q: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * What a Prometheus guardrail adds to one analysis (issue #19): the same canary analysis over an hour of
 * 1 s rollups, without one, with a rate guardrail whose events and total are queried per arm (four instant
 * queries), and with a p95 guardrail read from a histogram's buckets (two), from a real Prometheus on this
 * machine, interleaved so all three see the same machine.
 */
export async function runPrometheusBench(): Promise<BenchResult[]> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'r',
    labelNames: ['model', 'version'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'http_errors_total',
    help: 'e',
    labelNames: ['model', 'version'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'http_latency_seconds',
    help: 'l',
    labelNames: ['model', 'version'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  for (const version of ['1.0.0', '1.1.0']) {
    requests.inc({ model: 'm', version }, 100_000);
    errors.inc({ model: 'm', version }, 100);
    for (let i = 0; i < 1000; i++) latency.observe({ model: 'm', version }, (5 + (i % 100)) / 1000);
  }
  const prometheus = await startPrometheusScraping(registry);
  const db = await createBenchDatabase('prometheus');
  try {
    for (const v of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'm', version: v, actor: 'bench' });
    const start = Date.now() - 3_600_000;
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    const N = 72_000;
    for (let i = 0; i < N; i += 6_000) {
      const batch = Array.from({ length: 6_000 }, (_, k) => {
        const j = i + k;
        return {
          requestId: `q${j}`,
          model: 'm',
          version: j % 2 ? '1.1.0' : '1.0.0',
          prediction: j % 13,
          latencyMs: 20 + (j % 7),
          at: new Date(start + (j * 3_600_000) / N).toISOString(),
        };
      });
      await recorder.recordPredictions(batch, { durable: true });
    }
    await recorder.close();
    for (let i = 0; i < 100; i++) {
      const res = (await (
        await fetch(`${prometheus.url}/api/v1/query?query=count(http_requests_total)`)
      ).json()) as {
        data: { result: Array<{ value: [number, string] }> };
      };
      if (res.data.result[0]?.value[1] === '2') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    type Variant = 'without' | 'rate' | 'latency';
    const policy = (variant: Variant) =>
      parsePolicy({
        stages: [{ mode: 'canary', weight: 50, duration: '1h' }],
        metricSources: { prom: { type: 'prometheus', address: prometheus.url } },
        guardrails: [
          { metric: 'error', max: 0.01 },
          ...(variant === 'latency'
            ? [
                {
                  metric: 'http_latency',
                  source: 'prom',
                  quantile: 0.95,
                  buckets:
                    'sum by (le) (increase(http_latency_seconds_bucket{model="{{model}}",version="{{version}}"}[{{window}}]))',
                  max: 0.5,
                },
              ]
            : []),
          ...(variant === 'rate'
            ? [
                {
                  metric: 'http_error_rate',
                  source: 'prom',
                  events:
                    'sum(increase(http_errors_total{model="{{model}}",version="{{version}}"}[{{window}}]))',
                  total:
                    'sum(increase(http_requests_total{model="{{model}}",version="{{version}}"}[{{window}}]))',
                  max: 0.01,
                },
              ]
            : []),
        ],
      });
    const input = (variant: Variant): AnalyzeInput => ({
      tenantId: 'default',
      rolloutId: 'r',
      seq: 1,
      stageIndex: 0,
      mode: 'canary',
      model: 'm',
      champion: '1.0.0',
      challenger: '1.1.0',
      windows: [
        {
          index: 0,
          from: new Date(start).toISOString(),
          to: new Date(start + 3_600_000).toISOString(),
          mode: 'canary',
        },
      ],
      policy: policy(variant),
    });
    const source = rollupMetricSource(db.knex, 1000);
    const times: Record<Variant, number[]> = { without: [], rate: [], latency: [] };
    const orders: Variant[][] = [
      ['without', 'rate', 'latency'],
      ['latency', 'without', 'rate'],
      ['rate', 'latency', 'without'],
    ];
    for (let r = 0; r < ROUNDS + 10; r++)
      for (const v of orders[r % 3]!) {
        const t0 = performance.now();
        await analyze(input(v), source, () => new Date());
        if (r >= 10) times[v].push(performance.now() - t0);
      }
    const extra = (v: Variant, q: number) => round2(quantile(times[v], q) - quantile(times.without, q));
    const base = (q: number) => round2(quantile(times.without, q));
    const common = `${ROUNDS} analyses each, interleaved; a 50 % canary window of an hour on 1 s rollups (${N} predictions), against a local Prometheus scraping a prom-client exporter`;
    const notes = {
      rate: `${common}; with: one rate guardrail, events and total per arm (4 instant queries, increase over the window); p50 with ${round2(quantile(times.rate, 0.5))} ms, p99 with ${round2(quantile(times.rate, 0.99))} ms`,
      latency: `${common}; with: one p95 guardrail from a histogram's buckets per arm (2 instant queries, sum by (le) of increase over the window); p50 with ${round2(quantile(times.latency, 0.5))} ms, p99 with ${round2(quantile(times.latency, 0.99))} ms`,
    };
    const rows = (name: string, v: 'rate' | 'latency') => [
      benchResult(
        `${name}_extra_ms_p50`,
        extra(v, 0.5),
        'ms',
        'the same analysis without it, p50 (ms)',
        base(0.5),
        notes[v],
      ),
      benchResult(
        `${name}_extra_ms_p99`,
        extra(v, 0.99),
        'ms',
        'the same analysis without it, p99 (ms)',
        base(0.99),
        notes[v],
      ),
    ];
    return [...rows('prometheus_guardrail', 'rate'), ...rows('prometheus_latency_guardrail', 'latency')];
  } finally {
    await prometheus.stop();
    await db.drop();
  }
}
