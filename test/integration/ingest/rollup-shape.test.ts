import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVersionMetrics, type MetricFigures } from '../../../src/analysis/rollup-reader.js';
import { migrateLatest } from '../../../src/db/migrate.js';
import { UserFacingError } from '../../../src/errors.js';
import { migrationSource } from '../../../src/db/migrations/index.js';
import { binOf, histogramQuantile, type HistogramMoments } from '../../../src/ingest/histogram.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { registerVersion } from '../../../src/registry/registry.js';
import { createRng } from '../../../src/stats/random.js';
import { summarize, summaryFromSums } from '../../../src/stats/summary.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * Rollups keep the shape of each metric's values (issue #23): sums of cubes (skewness) and per-bin moments
 * of the histogram, read back exactly; rows from before they were kept read as "unknown shape", and values
 * whose cubes pass float8 make the shape unknown instead of failing ingestion.
 */

function directMoments(values: readonly number[]): HistogramMoments {
  const m: HistogramMoments = {};
  for (const v of values) {
    const b = (m[binOf(v)] ??= [0, 0, 0]);
    b[0] += v;
    b[1] += v * v;
    b[2] += v * v * v;
  }
  return m;
}

function expectRelative(actual: number, expected: number, tolerance: number, label: string): void {
  expect(Math.abs(actual - expected), label).toBeLessThanOrEqual(
    tolerance * Math.max(Math.abs(expected), 1e-300),
  );
}

function expectShape(f: MetricFigures | undefined, values: readonly number[], label: string): void {
  expect(f, label).toBeDefined();
  const exact = summarize(values);
  expect(f!.summary.n, label).toBe(values.length);
  expectRelative(f!.summary.skewness!, exact.skewness!, 1e-9, `${label} skewness`);
  const want = directMoments(values);
  expect(Object.keys(f!.histogramMoments ?? {}).sort(), label).toEqual(Object.keys(want).sort());
  for (const [bin, sums] of Object.entries(want))
    sums.forEach((s, i) =>
      expectRelative(f!.histogramMoments![bin]![i]!, s, 1e-12, `${label} bin ${bin}[${i}]`),
    );
}

/** This migration and those after it, rolled back to reach the schema it started from. */
const SHAPE_AND_LATER = [
  '20261202000009_rollup_shape',
  '20261203000010_segments',
  '20261204000011_lifecycle_times',
  '20261204000012_champion_monitor',
  '20261204000013_time_partitions',
  '20261205000014_requests_key_order',
];

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

describe('the shape of rollups on real Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('rollup_shape');
    for (const v of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'shape', version: v, actor: 't' });
  });
  afterAll(async () => db?.drop());

  it('skewness and per-bin moments read back equal those of the raw values', async () => {
    const gen = createRng(23);
    const random = (): number => gen.uniform();
    const recorder = createRecorder({ databaseUrl: db.url, batchSize: 300, flushIntervalMs: 10 });
    const truth = {
      latency: [] as number[],
      revenue: [] as number[],
      abs: [] as number[],
      sq: [] as number[],
    };
    const ape: number[] = [];
    const paired: number[] = [];
    const feedback: Array<{ model: string; requestId: string; actual: number }> = [];
    for (let i = 0; i < 2000; i++) {
      const actual = 50 + random() * 50;
      const served = actual + (random() - 0.5) * 8;
      const shadow = actual + Math.exp(random() * 3) - 3;
      const latency = Math.exp(3 + 0.8 * (random() + random() + random() - 1.5));
      const revenue = random() < 0.9 ? random() * 20 : -Math.exp(random() * 8);
      const at = new Date(T0 + Math.floor(random() * 20 * 60_000)).toISOString();
      const base = { requestId: `s${i}`, model: 'shape', at };
      await recorder.recordPredictions([
        { ...base, version: '1.0.0', prediction: served, latencyMs: latency, metrics: { revenue } },
        { ...base, version: '1.1.0', role: 'shadow', prediction: shadow },
      ]);
      feedback.push({ model: 'shape', requestId: `s${i}`, actual });
      truth.latency.push(latency);
      truth.revenue.push(revenue);
      truth.abs.push(Math.abs(served - actual));
      truth.sq.push((served - actual) ** 2);
      ape.push(Math.abs(served - actual) / actual);
      paired.push(Math.abs(shadow - actual) - Math.abs(served - actual));
    }
    await recorder.flush();
    for (let i = 0; i < feedback.length; i += 250)
      await recorder.recordFeedbackBatch(feedback.slice(i, i + 250));
    await recorder.close();

    const served = (
      await readVersionMetrics(db.knex, { model: 'shape', versions: ['1.0.0'], role: 'served' })
    )['1.0.0']!;
    expectShape(served.latency_ms, truth.latency, 'latency_ms');
    expectShape(served.revenue, truth.revenue, 'revenue');
    expectShape(served.abs_error, truth.abs, 'abs_error');
    expectShape(served.squared_error, truth.sq, 'squared_error');
    expectShape(served.ape, ape, 'ape');
    // The latency histogram and its quantiles are what they were: counts per bin.
    expect(served.latency_ms!.quantiles!.p95).toBe(histogramQuantile(served.latency_ms!.histogram!, 0.95));
    // A rate has its skewness (from the sum of cubes) but no histogram.
    expect(served.error!.histogram).toBeUndefined();
    expect(served.error!.histogramMoments).toBeUndefined();
    expect(served.error!.summary.skewness).toBe(0);

    // A caller that needs only summaries can leave the bins out, and keeps the skewness.
    const summaries = (
      await readVersionMetrics(db.knex, {
        model: 'shape',
        versions: ['1.0.0'],
        role: 'served',
        histograms: false,
      })
    )['1.0.0']!;
    expect(summaries.latency_ms!.summary).toEqual(served.latency_ms!.summary);
    expect(summaries.latency_ms!.histogram).toBeUndefined();
    expect(summaries.latency_ms!.quantiles).toBeUndefined();
    expect(summaries.latency_ms!.histogramMoments).toBeUndefined();

    // An analysis asks for the bins of the metrics that use them only; the others keep their shape.
    const some = (
      await readVersionMetrics(db.knex, {
        model: 'shape',
        versions: ['1.0.0'],
        role: 'served',
        histograms: ['latency_ms'],
      })
    )['1.0.0']!;
    expect(some.latency_ms!.histogram).toEqual(served.latency_ms!.histogram);
    expect(some.latency_ms!.histogramMoments).toEqual(served.latency_ms!.histogramMoments);
    expect(some.abs_error!.histogram).toBeUndefined();
    expect(some.abs_error!.histogramMoments).toBeUndefined();
    expect(some.abs_error!.summary).toEqual(served.abs_error!.summary);
    // A quantile needs only the counts: the moments can be left out too.
    const counts = (
      await readVersionMetrics(db.knex, {
        model: 'shape',
        versions: ['1.0.0'],
        role: 'served',
        histograms: ['latency_ms'],
        moments: [],
      })
    )['1.0.0']!;
    expect(counts.latency_ms!.histogram).toEqual(served.latency_ms!.histogram);
    expect(counts.latency_ms!.histogramMoments).toBeUndefined();

    const shadow = (
      await readVersionMetrics(db.knex, { model: 'shape', versions: ['1.1.0'], role: 'shadow' })
    )['1.1.0']!;
    expect(shadow.abs_error!.paired!.n).toBe(paired.length);
    expectRelative(shadow.abs_error!.paired!.skewness!, summarize(paired).skewness!, 1e-9, 'paired skewness');
  });

  it('a value whose cube passes float8, in one batch or summed over two, leaves the shape unknown and the batch stored', async () => {
    const recorder = createRecorder({ databaseUrl: db.url, flushIntervalMs: 5 });
    const one = T0 + 3 * 3_600_000;
    const two = one + 60_000;
    const predictions = [
      // (2e50)² = 4e100: its cube, 6.4e301, passes the bound alone (accumulator).
      { requestId: 'o1', prediction: 1e50, at: one },
      { requestId: 'o2', prediction: 1, at: one },
      // (9.4e49)² ≈ 8.8e99, cube ≈ 6.9e299: within the bound alone, past it once two are added (upsert).
      { requestId: 'o3', prediction: 9.4e49, at: two },
      { requestId: 'o4', prediction: 9.4e49, at: two },
    ].map((p) => ({ ...p, model: 'shape', version: '1.0.0', at: new Date(p.at).toISOString() }));
    expect((await recorder.recordPredictions(predictions, { durable: true })).accepted).toBe(4);
    const outcomes = [];
    for (const [requestId, actual] of [
      ['o1', -1e50],
      ['o2', 3],
      ['o3', 0],
      ['o4', 0],
    ] as const)
      outcomes.push(
        await recorder.recordFeedbackBatch([{ model: 'shape', requestId, actual }], { durable: true }),
      );
    await recorder.close();
    expect(outcomes.map((o) => o.accepted)).toEqual([1, 1, 1, 1]);

    for (const [from, to] of [
      [one, two],
      [two, two + 60_000],
    ] as const) {
      const f = (
        await readVersionMetrics(db.knex, {
          model: 'shape',
          versions: ['1.0.0'],
          from: new Date(from),
          to: new Date(to),
          bucketMs: 60_000,
        })
      )['1.0.0']!;
      expect(f.squared_error!.summary.n).toBe(2);
      expect(Number.isFinite(f.squared_error!.summary.variance)).toBe(true);
      expect(f.squared_error!.summary.skewness).toBeUndefined();
      expect(f.squared_error!.histogram).toBeDefined();
      expect(f.squared_error!.histogramMoments).toBeUndefined();
      // abs_error's cubes (at most 8e150) stay known.
      expect(f.abs_error!.summary.skewness).toBeDefined();
      expect(f.abs_error!.histogramMoments).toBeDefined();
    }
  });

  it('refuses a non-finite sum of cubes written around ingestion, naming it', async () => {
    await db.knex('metric_rollups').insert({
      model: 'shape_poisoned',
      version: '1.0.0',
      metric: 'revenue',
      bucket_start: new Date(T0),
      count: 1,
      sum: 1,
      sum_sq: 1,
      sum_cubes: db.knex.raw(`'Infinity'::float8`),
    });
    const err = await readVersionMetrics(db.knex, { model: 'shape_poisoned', versions: ['1.0.0'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserFacingError);
    expect((err as UserFacingError).message).toMatch(
      /shape_poisoned 1\.0\.0 revenue hold a non-finite sum_cubes/,
    );
  });
});

describe('rollups written before the shape was kept', () => {
  let db: TestDatabase;
  const bucket = (minute: number) => new Date(T0 + minute * 60_000);
  const latencies = [20, 22, 25, 31, 80];
  const row = {
    tenant_id: 'default',
    model: 'old',
    rollout_id: '',
    version: '1.0.0',
    role: 'served',
    metric: 'latency_ms',
    count: latencies.length,
    sum: latencies.reduce((a, b) => a + b, 0),
    sum_sq: latencies.reduce((a, b) => a + b * b, 0),
    min: 20,
    max: 80,
    histogram: JSON.stringify(
      latencies.reduce<Record<string, number>>((h, v) => ({ ...h, [binOf(v)]: (h[binOf(v)] ?? 0) + 1 }), {}),
    ),
  };

  beforeAll(async () => {
    db = await createTestDatabase('rollup_shape_old');
    // The schema as it was before this migration, and rows as the writer of that time stored them.
    for (const _ of SHAPE_AND_LATER)
      await db.knex.migrate.down({ migrationSource, tableName: 'knex_migrations' });
    await registerVersion(db.knex, { model: 'old', version: '1.0.0', actor: 't' });
    await db.knex('metric_rollups').insert([
      { ...row, bucket_start: bucket(0) },
      { ...row, bucket_start: bucket(1) },
      { ...row, metric: 'abs_error', histogram: '{}', bucket_start: bucket(0) },
    ]);
    expect(await migrateLatest(db.knex)).toEqual(SHAPE_AND_LATER);
  });
  afterAll(async () => db?.drop());

  const read = (fromMinute: number, toMinute: number) =>
    readVersionMetrics(db.knex, {
      model: 'old',
      versions: ['1.0.0'],
      from: bucket(fromMinute),
      to: bucket(toMinute),
      bucketMs: 60_000,
    }).then((f) => f['1.0.0']!);

  it('read as before, with an unknown shape', async () => {
    const f = await read(0, 2);
    const before = summaryFromSums(2 * row.count, 2 * row.sum, 2 * row.sum_sq);
    expect(f.latency_ms!.summary).toEqual(before);
    expect(f.latency_ms!.summary.skewness).toBeUndefined();
    expect(f.latency_ms!.histogramMoments).toBeUndefined();
    expect(f.latency_ms!.histogram).toEqual(
      Object.fromEntries(Object.entries(JSON.parse(row.histogram) as object).map(([k, c]) => [k, 2 * c])),
    );
    expect(f.latency_ms!.quantiles!.p95).toBe(histogramQuantile(f.latency_ms!.histogram!, 0.95));
    expect(f.abs_error!.summary).toEqual(summaryFromSums(row.count, row.sum, row.sum_sq));
    expect(f.abs_error!.histogram).toBeUndefined();
    const known = await db.knex('metric_rollups').whereNotNull('sum_cubes').count({ n: '*' }).first();
    expect(Number(known!.n)).toBe(0);
  });

  it('stay unknown when new values join them, and make a window that holds them unknown', async () => {
    const recorder = createRecorder({ databaseUrl: db.url, flushIntervalMs: 5 });
    const at = (minute: number) => new Date(T0 + minute * 60_000 + 5_000).toISOString();
    // Into an old bucket (0), and into a new one (2).
    const records = [0, 0, 2, 2, 2].map((minute, i) => ({
      requestId: `n${i}`,
      model: 'old',
      version: '1.0.0',
      prediction: 10 + i,
      latencyMs: 30 + 7 * i,
      at: at(minute),
    }));
    await recorder.recordPredictions(records, { durable: true });
    await recorder.recordFeedbackBatch(
      records.map((r) => ({ model: 'old', requestId: r.requestId, actual: 10 })),
      { durable: true },
    );
    await recorder.close();

    const old = await read(0, 1);
    expect(old.latency_ms!.summary.n).toBe(row.count + 2);
    expect(old.latency_ms!.summary.skewness).toBeUndefined();
    expect(old.latency_ms!.histogramMoments).toBeUndefined();
    // The old abs_error row counted values without a histogram: its moments cannot cover them.
    expect(old.abs_error!.summary.n).toBe(row.count + 2);
    expect(old.abs_error!.histogramMoments).toBeUndefined();

    const mixed = await read(0, 3);
    expect(mixed.latency_ms!.summary.n).toBe(2 * row.count + 5);
    expect(mixed.latency_ms!.summary.skewness).toBeUndefined();
    expect(mixed.latency_ms!.histogramMoments).toBeUndefined();

    const fresh = await read(2, 3);
    const latencies = records.slice(2).map((r) => r.latencyMs);
    expect(fresh.latency_ms!.summary.skewness).toBeCloseTo(summarize(latencies).skewness!, 9);
    expect(fresh.latency_ms!.histogramMoments).toEqual(directMoments(latencies));
    expect(fresh.abs_error!.histogramMoments).toEqual(directMoments([2, 3, 4]));
  });

  it('the migration rolls back to the old columns and forward again', async () => {
    for (const _ of SHAPE_AND_LATER)
      await db.knex.migrate.down({ migrationSource, tableName: 'knex_migrations' });
    for (const table of ['metric_rollups', 'metric_rollups_quarantine']) {
      const columns = Object.keys(await db.knex(table).columnInfo());
      expect(columns, table).not.toContain('sum_cubes');
      expect(columns, table).not.toContain('histogram_moments');
    }
    const fn = await db.knex.raw(
      `select count(*)::int as n from pg_proc where proname = 'arena_moments_add'`,
    );
    expect(fn.rows[0].n).toBe(0);
    expect(await migrateLatest(db.knex)).toEqual(SHAPE_AND_LATER);
    const f = await read(2, 3);
    // What was kept of new rows is gone with the columns: unknown again, never wrong.
    expect(f.latency_ms!.summary.n).toBe(3);
    expect(f.latency_ms!.summary.skewness).toBeUndefined();
    expect(f.latency_ms!.histogramMoments).toBeUndefined();
  });
});
