import pg from 'pg';
import { mean, sampleVariance } from 'simple-statistics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVersionMetrics } from '../../../src/analysis/rollup-reader.js';
import { createRecorder, RecordRejectedError } from '../../../src/ingest/recorder.js';
import { parsePrediction, type Prediction } from '../../../src/ingest/records.js';
import { writePredictions } from '../../../src/ingest/writer.js';
import { registerVersion } from '../../../src/registry/registry.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** A small seeded PRNG so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The full-scan reference, from simple-statistics: the sample (n − 1) variance, as the rollups keep. */
function exactSummary(values: number[]) {
  return { n: values.length, mean: mean(values), variance: sampleVariance(values) };
}

/**
 * The element of rank ⌊q·(n−1)⌋, the rank convention of histogramQuantile (src/ingest/histogram.ts), whose
 * answer is that element rounded to its bin. Kept by hand on purpose: simple-statistics' quantile
 * interpolates between two elements (R type 7) and would compare against a different number.
 */
function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('recorder and incremental rollups on real Postgres', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('ingest');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    for (const v of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'demand', version: v, actor: 't' });
    await registerVersion(db.knex, { model: 'clf', version: '1.0.0', actor: 't' });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('rollups equal a full scan: counts, means, variances, error rate and latency quantiles within 1 %', async () => {
    const random = rng(7);
    const recorder = createRecorder({ pool, batchSize: 700, flushIntervalMs: 20 });
    const t0 = Date.UTC(2026, 10, 1, 12, 0, 0);
    const truth: Record<string, { abs: number[]; lat: number[]; errors: number; n: number }> = {
      '1.0.0': { abs: [], lat: [], errors: 0, n: 0 },
      '1.1.0': { abs: [], lat: [], errors: 0, n: 0 },
    };
    const feedback: Array<{ model: string; requestId: string; actual: number }> = [];
    for (let i = 0; i < 5000; i++) {
      const version = random() < 0.3 ? '1.1.0' : '1.0.0';
      const actual = 100 + random() * 50;
      const value = actual + (random() - 0.5) * (version === '1.1.0' ? 10 : 14);
      const latency = Math.exp(3.5 + 0.6 * (random() + random() + random() - 1.5));
      const error = random() < 0.01;
      const at = new Date(t0 + Math.floor(random() * 30 * 60_000)).toISOString();
      await recorder.recordPrediction({
        requestId: `r${i}`,
        model: 'demand',
        version,
        prediction: error ? null : value,
        latencyMs: latency,
        error,
        at,
      });
      const t = truth[version]!;
      t.n += 1;
      t.lat.push(latency);
      if (error) t.errors += 1;
      else t.abs.push(Math.abs(value - actual));
      feedback.push({ model: 'demand', requestId: `r${i}`, actual });
    }
    await recorder.flush();
    // Ground truth arrives later, in a different order.
    for (const f of feedback.reverse()) await recorder.recordFeedback(f);
    await recorder.close();

    const figures = await readVersionMetrics(db.knex, { model: 'demand', versions: ['1.0.0', '1.1.0'] });
    for (const version of ['1.0.0', '1.1.0']) {
      const t = truth[version]!;
      const f = figures[version]!;
      const exact = exactSummary(t.abs);
      expect(f.abs_error!.summary.n).toBe(exact.n);
      expect(f.abs_error!.summary.mean).toBeCloseTo(exact.mean, 9);
      expect(f.abs_error!.summary.variance / exact.variance).toBeCloseTo(1, 8);
      expect(f.error!.summary.n).toBe(t.n);
      expect(f.error!.errorCount).toBe(t.errors);
      expect(f.error!.summary.mean).toBeCloseTo(t.errors / t.n, 12);
      expect(f.latency_ms!.summary.n).toBe(t.n);
      for (const [name, q] of [
        ['p50', 0.5],
        ['p95', 0.95],
        ['p99', 0.99],
      ] as const) {
        const exactQ = exactQuantile(t.lat, q);
        expect(Math.abs(f.latency_ms!.quantiles![name] - exactQ) / exactQ, `${version} ${name}`).toBeLessThan(
          0.01,
        );
      }
    }
  });

  it('never double-counts a retried batch', async () => {
    const now = new Date('2026-11-02T00:00:00Z');
    const batch = Array.from({ length: 50 }, (_, i) =>
      parsePrediction(
        {
          requestId: `dup${i}`,
          model: 'demand',
          version: '1.0.0',
          prediction: i,
          latencyMs: 5,
          at: now.toISOString(),
        },
        i,
      ),
    ) as Prediction[];
    const first = await writePredictions(pool, 'default', batch, { bucketMs: 60_000 });
    const retry = await writePredictions(pool, 'default', batch, { bucketMs: 60_000 });
    const partial = await writePredictions(
      pool,
      'default',
      [
        ...batch.slice(0, 10),
        ...(Array.from({ length: 5 }, (_, i) =>
          parsePrediction(
            { requestId: `new${i}`, model: 'demand', version: '1.0.0', prediction: i, at: now.toISOString() },
            i,
          ),
        ) as Prediction[]),
      ],
      { bucketMs: 60_000 },
    );
    expect(first).toMatchObject({ inserted: 50, duplicates: 0 });
    expect(retry).toMatchObject({ inserted: 0, duplicates: 50 });
    expect(partial).toMatchObject({ inserted: 5, duplicates: 10 });
    const figures = await readVersionMetrics(db.knex, {
      model: 'demand',
      versions: ['1.0.0'],
      from: now,
      to: new Date(now.getTime() + 60_000),
    });
    expect(figures['1.0.0']!.error!.summary.n).toBe(55);
    expect(figures['1.0.0']!.latency_ms!.summary.n).toBe(50);
  });

  it('puts late feedback in the time bucket of its prediction', async () => {
    const recorder = createRecorder({ pool, flushIntervalMs: 10 });
    const then = new Date('2026-10-01T08:30:10Z');
    await recorder.recordPrediction({
      requestId: 'late-1',
      model: 'demand',
      version: '1.1.0',
      prediction: 10,
      at: then.toISOString(),
    });
    await recorder.flush();
    await recorder.recordFeedback({
      model: 'demand',
      requestId: 'late-1',
      actual: 14,
      at: '2026-10-04T00:00:00Z',
    });
    await recorder.close();
    const bucket = await db
      .knex('metric_rollups')
      .where({ model: 'demand', version: '1.1.0', metric: 'abs_error' })
      .where('bucket_start', '=', new Date('2026-10-01T08:30:00Z'))
      .first();
    expect(bucket).toMatchObject({ count: 1, sum: 4, sum_sq: 16 });
  });

  it('pairs shadow and served predictions of a request exactly once, whatever the arrival order', async () => {
    const at = '2026-10-05T00:00:00Z';
    const recorder = createRecorder({ pool, flushIntervalMs: 5 });
    const orders = [
      ['served', 'shadow', 'feedback'],
      ['feedback', 'served', 'shadow'],
      ['shadow', 'feedback', 'served'],
      ['served', 'feedback', 'shadow'],
    ];
    let expected = 0;
    for (const [i, order] of orders.entries()) {
      const requestId = `pair-${i}`;
      const actual = 100;
      const served = 100 + i; // champion error i
      const shadow = 100 + 2 * i + 1; // challenger error 2i+1
      expected += Math.abs(shadow - actual) - Math.abs(served - actual);
      for (const step of order) {
        if (step === 'feedback') await recorder.recordFeedback({ model: 'demand', requestId, actual });
        else
          await recorder.recordPrediction({
            requestId,
            model: 'demand',
            version: step === 'served' ? '1.0.0' : '1.1.0',
            role: step,
            prediction: step === 'served' ? served : shadow,
            at,
          });
        await recorder.flush();
      }
    }
    await recorder.close();
    const figures = await readVersionMetrics(db.knex, {
      model: 'demand',
      versions: ['1.1.0'],
      role: 'shadow',
    });
    expect(figures['1.1.0']!.abs_error!.paired).toMatchObject({ n: 4 });
    expect(figures['1.1.0']!.abs_error!.paired!.mean * 4).toBeCloseTo(expected, 9);
    expect(figures['1.1.0']!.abs_error!.summary.n).toBe(4);
  });

  it('computes accuracy for labels', async () => {
    const recorder = createRecorder({ pool, flushIntervalMs: 5 });
    const labels = ['cat', 'dog', 'cat', 'bird'];
    const predicted = ['cat', 'cat', 'cat', 'bird'];
    await recorder.recordPredictions(
      predicted.map((p, i) => ({ requestId: `c${i}`, model: 'clf', version: '1.0.0', prediction: p })),
    );
    await recorder.flush();
    await recorder.recordFeedbackBatch(
      labels.map((l, i) => ({ model: 'clf', requestId: `c${i}`, actual: l })),
    );
    await recorder.close();
    const f = await readVersionMetrics(db.knex, { model: 'clf', versions: ['1.0.0'] });
    expect(f['1.0.0']!.correct!.summary).toMatchObject({ n: 4, mean: 0.75 });
  });

  it('computes a binary classifier’s accuracy and log loss from its label, probability and true/false outcome', async () => {
    await registerVersion(db.knex, { model: 'delay', version: '1.0.0', actor: 't' });
    const recorder = createRecorder({ pool, flushIntervalMs: 5 });
    const probability = [0.9, 0.2, 0.6, 0.3];
    const outcome = [true, false, false, true];
    const stored = await recorder.recordPredictions(
      probability.map((p, i) => ({
        requestId: `d${i}`,
        model: 'delay',
        version: '1.0.0',
        prediction: p >= 0.5,
        probability: p,
      })),
      { durable: true },
    );
    expect(stored.rejected).toEqual([]);
    // A probability beside a prediction that is not a true/false label is refused, naming the field.
    const refused = await recorder.recordPredictions(
      [{ requestId: 'd-bad', model: 'delay', version: '1.0.0', prediction: 'late', probability: 0.4 }],
      { durable: true },
    );
    expect(refused.rejected).toEqual([
      expect.objectContaining({
        field: 'probability',
        reason: expect.stringMatching(/must be true or false \(got "late"\)/),
      }),
    ]);
    await recorder.recordFeedbackBatch(
      outcome.map((actual, i) => ({ model: 'delay', requestId: `d${i}`, actual })),
      { durable: true },
    );
    await recorder.close();
    const f = await readVersionMetrics(db.knex, { model: 'delay', versions: ['1.0.0'] });
    expect(f['1.0.0']!.correct!.summary).toMatchObject({ n: 4, mean: 0.5 });
    const losses = probability.map((p, i) => -Math.log(outcome[i] ? p : 1 - p));
    expect(f['1.0.0']!.log_loss!.summary.n).toBe(4);
    expect(f['1.0.0']!.log_loss!.summary.mean).toBeCloseTo(losses.reduce((a, b) => a + b) / 4, 10);
  });

  it('rejects bad records with index, field and reason and keeps every valid one of the batch', async () => {
    const recorder = createRecorder({ pool, flushIntervalMs: 5 });
    const sqlish = "x'); drop table predictions; --";
    const batch: unknown[] = [
      { requestId: 'ok-1', model: 'demand', version: '1.0.0', prediction: 1 },
      { requestId: 'bad-nan', model: 'demand', version: '1.0.0', prediction: Number.NaN },
      {
        requestId: 'bad-inf',
        model: 'demand',
        version: '1.0.0',
        prediction: 2,
        latencyMs: Number.POSITIVE_INFINITY,
      },
      { requestId: 'bad-lat', model: 'demand', version: '1.0.0', prediction: 2, latencyMs: -3 },
      { model: 'demand', version: '1.0.0', prediction: 2 },
      { requestId: 'bad-model', model: 'nope', version: '1.0.0', prediction: 2 },
      { requestId: 'bad-version', model: 'demand', version: '9.9.9', prediction: 2 },
      { requestId: 'bad-semver', model: 'demand', version: 'latest', prediction: 2 },
      { requestId: 'bad-role', model: 'demand', version: '1.0.0', role: 'primary', prediction: 2 },
      { requestId: 'bad-extra', model: 'demand', version: '1.0.0', prediction: 2, colour: 'red' },
      {
        requestId: 'bad-metric',
        model: 'demand',
        version: '1.0.0',
        prediction: 2,
        metrics: { abs_error: 1 },
      },
      'not an object',
      { requestId: sqlish, model: 'demand', version: '1.0.0', prediction: sqlish, errorCode: sqlish },
      { requestId: 'ok-2', model: 'demand', version: '1.0.0', prediction: 3, metrics: { revenue: 12.5 } },
    ];
    const { accepted, rejected } = await recorder.recordPredictions(batch);
    await recorder.close();
    expect(accepted).toBe(3);
    expect(rejected.map((r) => [r.index, r.field])).toEqual([
      [1, 'prediction'],
      [2, 'latencyMs'],
      [3, 'latencyMs'],
      [4, 'requestId'],
      [5, 'model'],
      [6, 'version'],
      [7, 'version'],
      [8, 'role'],
      [9, '(record)'],
      [10, 'metrics.abs_error'],
      [11, '(record)'],
    ]);
    for (const r of rejected) expect(r.reason.length).toBeGreaterThan(3);
    const stored = await db
      .knex('predictions')
      .whereIn('request_id', ['ok-1', 'ok-2', sqlish])
      .orderBy('request_id');
    expect(stored.map((s: { request_id: string }) => s.request_id).sort()).toEqual(
      ['ok-1', 'ok-2', sqlish].sort(),
    );
    expect(stored.find((s: { request_id: string }) => s.request_id === sqlish)).toMatchObject({
      prediction: sqlish,
      error_code: sqlish,
    });
    await expect(
      createRecorder({ pool }).recordPrediction({
        requestId: 'x',
        model: 'nope',
        version: '1.0.0',
        prediction: 1,
      }),
    ).rejects.toBeInstanceOf(RecordRejectedError);
  });

  it('applies back-pressure: callers wait while the database cannot keep up, and nothing is lost', async () => {
    const blocker = await pool.connect();
    const recorder = createRecorder({ pool, batchSize: 5, maxBuffered: 10, flushIntervalMs: 1 });
    try {
      await blocker.query('begin');
      await blocker.query('lock table predictions in access exclusive mode');
      const calls = Array.from({ length: 25 }, (_, i) =>
        recorder.recordPrediction({
          requestId: `bp${i}`,
          model: 'demand',
          version: '1.0.0',
          prediction: i,
          at: '2026-10-06T00:00:00Z',
        }),
      );
      const settled = new Set<number>();
      calls.forEach((c, i) => void c.then(() => settled.add(i)));
      await expect.poll(() => recorder.stats().buffered).toBeGreaterThanOrEqual(10);
      await new Promise((r) => setTimeout(r, 200));
      // The buffer never exceeds its bound, so the later calls are still waiting.
      expect(recorder.stats().buffered).toBeLessThanOrEqual(10);
      expect(settled.size).toBeLessThan(25);
      await blocker.query('rollback');
      await Promise.all(calls);
      await recorder.close();
      const { n } = (await db
        .knex('predictions')
        .where('request_id', 'like', 'bp%')
        .count({ n: '*' })
        .first()) as { n: number };
      expect(n).toBe(25);
    } finally {
      blocker.release();
    }
  });

  it('a tenant write Postgres refuses does not break the writes after it', async () => {
    // One connection at a time: the failed write's connection is replaced (see checkOut in write-transaction.ts) and
    // the writes after it go through as usual.
    const single = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      await registerVersion(db.knex, { tenantId: 'stg', model: 'demand', version: '1.0.0', actor: 't' });
      const record = (requestId: string, latencyMs: number): Prediction => {
        const p = parsePrediction(
          { requestId, model: 'demand', version: '1.0.0', prediction: 3, at: '2026-10-08T00:00:00Z' },
          0,
        );
        if (!('requestId' in p)) throw new Error(p.reason);
        return { ...p, latencyMs };
      };
      const options = { bucketMs: 60_000, enforceTenant: true };
      // Past validation on purpose: Postgres' own check refuses the row during the insert.
      await expect(writePredictions(single, 'stg', [record('stg-bad', -1)], options)).rejects.toMatchObject({
        code: '23514',
      });
      expect(await writePredictions(single, 'stg', [record('stg-1', 5)], options)).toMatchObject({
        inserted: 1,
      });
      expect(await writePredictions(single, 'stg', [record('stg-2', 5)], options)).toMatchObject({
        inserted: 1,
      });
      expect(await db.knex('predictions').where({ tenant_id: 'stg' }).pluck('request_id')).toEqual([
        'stg-1',
        'stg-2',
      ]);
    } finally {
      await single.end();
    }
  });

  it('under row-level security, stores the first of repeated keys once and skips what is already stored', async () => {
    await registerVersion(db.knex, { tenantId: 'rep', model: 'demand', version: '1.0.0', actor: 't' });
    const at = '2026-10-09T00:00:00Z';
    const record = (
      requestId: string,
      prediction: number,
      extra: Record<string, unknown> = {},
    ): Prediction => {
      const p = parsePrediction(
        { requestId, model: 'demand', version: '1.0.0', prediction, at, ...extra },
        0,
      );
      if (!('requestId' in p)) throw new Error(p.reason);
      return p;
    };
    const options = { bucketMs: 60_000, enforceTenant: true };
    expect(await writePredictions(pool, 'rep', [record('rep-0', 1)], options)).toMatchObject({ inserted: 1 });
    const out = await writePredictions(
      pool,
      'rep',
      [
        record('rep-1', 10, { unitId: 'u-1', latencyMs: 12.5, metrics: { revenue: 3 }, featuresHash: 'h1' }),
        record('rep-0', 99),
        record('rep-1', 20),
        record('rep-2', 30, { role: 'shadow', error: true, errorCode: 'E1' }),
      ],
      options,
    );
    expect(out).toMatchObject({ inserted: 2, duplicates: 2 });
    const rows = await db
      .knex('predictions')
      .where({ tenant_id: 'rep' })
      .orderBy('request_id')
      .select(
        'request_id',
        'unit_id',
        'role',
        'prediction',
        'latency_ms',
        'error',
        'error_code',
        'metrics',
        'features_hash',
      );
    expect(rows).toEqual([
      expect.objectContaining({ request_id: 'rep-0', prediction: 1 }),
      {
        request_id: 'rep-1',
        unit_id: 'u-1',
        role: 'served',
        prediction: 10,
        latency_ms: 12.5,
        error: false,
        error_code: null,
        metrics: { revenue: 3 },
        features_hash: 'h1',
      },
      expect.objectContaining({ request_id: 'rep-2', role: 'shadow', error: true, error_code: 'E1' }),
    ]);
    const served = await db
      .knex('metric_rollups')
      .where({ tenant_id: 'rep', metric: 'error', role: 'served' })
      .sum({ n: 'count' })
      .first();
    expect(Number(served!.n)).toBe(2);
  });

  it('writes under row-level security as the tenant when enforceTenant is set', async () => {
    await registerVersion(db.knex, { tenantId: 'acme', model: 'demand', version: '1.0.0', actor: 't' });
    const recorder = createRecorder({ pool, tenantId: 'acme', enforceTenant: true, flushIntervalMs: 5 });
    await recorder.recordPrediction({
      requestId: 'acme-1',
      model: 'demand',
      version: '1.0.0',
      prediction: 5,
      at: '2026-10-07T00:00:00Z',
    });
    await recorder.recordPrediction({
      requestId: 'acme-1',
      model: 'demand',
      version: '1.0.0',
      prediction: 5,
      at: '2026-10-07T00:00:00Z',
    });
    await recorder.flush();
    await recorder.recordFeedback({ model: 'demand', requestId: 'acme-1', actual: 7 });
    await recorder.close();
    const rows = await db.knex('predictions').where({ request_id: 'acme-1' });
    expect(rows).toHaveLength(1);
    expect(rows[0].tenant_id).toBe('acme');
    const rollup = await db.knex('metric_rollups').where({ tenant_id: 'acme', metric: 'abs_error' }).first();
    expect(rollup).toMatchObject({ count: 1, sum: 2 });
    // The default tenant's rollups for the same model and bucket are untouched.
    expect(
      await db
        .knex('metric_rollups')
        .where({ tenant_id: 'default', bucket_start: new Date('2026-10-07T00:00:00Z') }),
    ).toEqual([]);
  });
});
