import { Counter, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusClient, type PromqlValue } from '../../../src/analysis/prometheus-client.js';
import { promqlDuration, renderPromql } from '../../../src/analysis/promql-template.js';
import { bucketQuantile } from '../../../src/stats/bucket-quantile.js';
import { startPrometheusScraping, type TestPrometheus } from '../../support/prometheus.js';

/**
 * The Prometheus query client against a real Prometheus (Debian's package) scraping a small serving process
 * that exports per-version request and error counters and a latency histogram with prom-client.
 */
describe('Prometheus as a source of numbers (real server, scraping a prom-client exporter)', () => {
  const registry = new Registry();
  const requests = new Counter({
    name: 'model_requests_total',
    help: 'requests',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'model_errors_total',
    help: 'errors',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'model_latency_seconds',
    help: 'latency',
    labelNames: ['model', 'version'] as const,
    buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
    registers: [registry],
  });
  let prometheus: TestPrometheus;
  const client = () => createPrometheusClient(prometheus.url);
  const at = () => new Date();
  const value = (v: PromqlValue): number => {
    if (!v.ok) throw new Error(`${v.reason}: ${v.message}`);
    return v.value;
  };

  beforeAll(async () => {
    requests.inc({ model: 'fraud', version: '1.0.0' }, 900);
    errors.inc({ model: 'fraud', version: '1.0.0' }, 9);
    requests.inc({ model: 'fraud', version: '1.1.0' }, 100);
    errors.inc({ model: 'fraud', version: '1.1.0' }, 7);
    for (let i = 0; i < 100; i++) latency.observe({ model: 'fraud', version: '1.1.0' }, i < 90 ? 0.015 : 0.3);
    // A spread of latencies, so interpolation inside buckets is exercised.
    for (let i = 0; i < 997; i++)
      latency.observe({ model: 'fraud', version: '1.0.0' }, 0.004 + ((i * 7919) % 997) / 1500);
    prometheus = await startPrometheusScraping(registry);
    // Scraped at least once.
    for (let i = 0; i < 100; i++) {
      const v = await client().query('sum(model_requests_total)', at());
      if (v.ok && v.value === 1000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 360_000);
  afterAll(async () => {
    await prometheus?.stop();
  });

  it('reads one number per arm from a template, and a quantile from the histogram', async () => {
    const template = 'sum(model_errors_total{model="{{model}}",version="{{version}}"})';
    const values = (version: string, arm: string) => ({
      model: 'fraud',
      version,
      arm,
      interval: promqlDuration(60_000),
      window: promqlDuration(3_600_000),
    });
    expect(value(await client().query(renderPromql(template, values('1.0.0', 'champion')), at()))).toBe(9);
    expect(value(await client().query(renderPromql(template, values('1.1.0', 'challenger')), at()))).toBe(7);
    const p90 = await client().query(
      'histogram_quantile(0.9, sum by (le) (model_latency_seconds_bucket{version="1.1.0"}))',
      at(),
    );
    expect(value(p90)).toBeGreaterThan(0.01);
    expect(value(p90)).toBeLessThanOrEqual(0.02);
  });

  it('reads a histogram’s buckets, whose quantile is the one PromQL’s histogram_quantile gives', async () => {
    const buckets = 'sum by (le) (model_latency_seconds_bucket{version="1.0.0"})';
    const b = await client().buckets(buckets, at());
    if (!b.ok) throw new Error(b.message);
    expect(b.buckets.map((x) => x.le)).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, Infinity]);
    expect(b.buckets.at(-1)!.count).toBe(997);
    for (const q of [0.005, 0.25, 0.5, 0.9, 0.95, 0.99]) {
      const theirs = value(await client().query(`histogram_quantile(${q}, ${buckets})`, at()));
      expect(bucketQuantile(q, b.buckets), `q=${q}`).toBeCloseTo(theirs, 12);
    }
    // Several histograms (one per version), or series without le, are refused rather than guessed at.
    const several = await client().buckets('model_latency_seconds_bucket', at());
    expect(several).toMatchObject({ ok: false, reason: 'ambiguous' });
    expect(!several.ok && several.message).toMatch(/buckets of several histograms .*"version":"1\.0\.0"/);
    const noLe = await client().buckets('sum(model_latency_seconds_bucket)', at());
    expect(noLe).toMatchObject({ ok: false, reason: 'query-error' });
    expect(!noLe.ok && noLe.message).toMatch(/without an le label/);
    const noInf = await client().buckets('sum by (le) (model_latency_seconds_bucket{le!="+Inf"})', at());
    expect(!noInf.ok && noInf.message).toMatch(/no le="\+Inf" bucket/);
    expect(
      await client().buckets('sum by (le) (model_latency_seconds_bucket{version="9"})', at()),
    ).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('says "ambiguous" with the labels when a query returns several series, never picking one', async () => {
    const v = await client().query('model_requests_total', at());
    expect(v).toMatchObject({ ok: false, reason: 'ambiguous' });
    expect(!v.ok && v.message).toMatch(
      /2 series where one was expected .*"version":"1\.0\.0".*"version":"1\.1\.0"/,
    );
  });

  it('keeps the parser’s position in a query error, and names no data as such', async () => {
    const bad = await client().query('sum(model_requests_total', at());
    expect(bad).toMatchObject({ ok: false, reason: 'query-error' });
    expect(!bad.ok && bad.message).toMatch(/^bad_data: .*1:\d+: parse error/);
    // A version nothing was recorded for: no series, even summed (PromQL sums nothing to nothing), so "no
    // data" rather than a zero that could read as a clean error rate.
    for (const q of ['model_requests_total{version="9.9.9"}', 'sum(model_requests_total{version="9.9.9"})'])
      expect(await client().query(q, at())).toMatchObject({ ok: false, reason: 'empty' });
    expect(await client().query('0/0', at())).toMatchObject({ ok: false, reason: 'nan' });
  });

  it('cannot be steered by a version name: a quote in it stays inside the label value', async () => {
    const hostile = renderPromql('model_requests_total{version="{{version}}"}', {
      model: 'fraud',
      version: '1.0.0"} or vector(1) or x{a="',
      arm: 'challenger',
      interval: '60s',
      window: '3600s',
    });
    expect(await client().query(hostile, at())).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('reports an unreachable server as such', async () => {
    const gone = createPrometheusClient('http://127.0.0.1:1', { timeoutMs: 2_000 });
    const v = await gone.query('up', at());
    expect(v).toMatchObject({ ok: false, reason: 'unreachable' });
    expect(!v.ok && v.message).toMatch(/^Prometheus at http:\/\/127\.0\.0\.1:1 did not answer/);
  });
});
