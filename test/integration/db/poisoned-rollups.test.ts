import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVersionMetrics } from '../../../src/analysis/rollup-reader.js';
import { migrateLatest } from '../../../src/db/migrate.js';
import { migrationSource } from '../../../src/db/migrations/index.js';
import { modelHealth } from '../../../src/health/model-health.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { UserFacingError } from '../../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * Rollups poisoned before ingestion bounded its values (a latency of 1e308 made a sum of squares Infinity,
 * and the model's health answered 500 from then on): readers refuse them with a clear message, and
 * migration 20261202000008 moves them aside so every statistic is finite again.
 */
const MODEL = 'poisoned';
const QUARANTINE_AND_LATER = [
  '20261202000008_quarantine_poisoned_rollups',
  '20261202000009_rollup_shape',
  '20261203000010_segments',
  '20261204000011_lifecycle_times',
  '20261204000012_champion_monitor',
  '20261204000013_time_partitions',
  '20261205000014_requests_key_order',
];
const NOW = new Date();
const bucket = (minutesAgo: number): Date =>
  new Date(Math.floor((NOW.getTime() - minutesAgo * 60_000) / 60_000) * 60_000);

describe('rollups poisoned by values stored before the limits', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('poisoned_rollups');
    await registerVersion(db.knex, { model: MODEL, version: '1.0.0', actor: 't' });
    await setChampion(db.knex, { model: MODEL, version: '1.0.0', actor: 't' });
    const recorder = createRecorder({ databaseUrl: db.url });
    const good = Array.from({ length: 50 }, (_, i) => ({
      requestId: `g${i}`,
      model: MODEL,
      version: '1.0.0',
      prediction: 10,
      latencyMs: 20 + (i % 5),
      at: bucket(10).toISOString(),
    }));
    await recorder.recordPredictions(good, { durable: true });
    await recorder.close();
    // What the old writer stored for one record with latencyMs 1e308 (its square overflows to Infinity),
    // and for a named metric of 1e200 (finite alone, Infinity once two buckets are summed). Inserted into
    // today's schema (the columns added since keep their defaults, as for any old row), because today's
    // reader and writer need it; the next test rolls the schema back to before the quarantine.
    const row = {
      tenant_id: 'default',
      model: MODEL,
      rollout_id: '',
      version: '1.0.0',
      role: 'served',
      bucket_start: bucket(5),
    };
    await db.knex('metric_rollups').insert([
      {
        ...row,
        metric: 'latency_ms',
        count: 1,
        sum: 1e308,
        sum_sq: db.knex.raw(`'Infinity'::float8`),
        min: 1e308,
        max: 1e308,
        histogram: JSON.stringify({ '70920': 1 }),
      },
      { ...row, metric: 'revenue', count: 1, sum: 1e200, sum_sq: 1e300, min: 1e200, max: 1e200 },
      {
        ...row,
        bucket_start: bucket(4),
        metric: 'revenue',
        count: 1,
        sum: 1e200,
        sum_sq: 1e300,
        min: 1e200,
        max: 1e200,
      },
    ]);
  });
  afterAll(async () => db?.drop());

  it('before the migration, readers refuse them with a message naming the metric and what to do', async () => {
    const err = await readVersionMetrics(db.knex, { model: MODEL, versions: ['1.0.0'] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserFacingError);
    expect((err as UserFacingError).message).toMatch(
      /poisoned 1\.0\.0 (latency_ms|revenue) hold a non-finite/,
    );
    expect((err as UserFacingError).hint).toMatch(/arena db migrate/);
    await expect(modelHealth(db.knex, MODEL)).rejects.toBeInstanceOf(UserFacingError);
  });

  it('the migration moves them to metric_rollups_quarantine, and every statistic is finite again', async () => {
    for (const _ of QUARANTINE_AND_LATER)
      await db.knex.migrate.down({ migrationSource, tableName: 'knex_migrations' });
    expect(await migrateLatest(db.knex)).toEqual(QUARANTINE_AND_LATER);
    const quarantined = await db
      .knex('metric_rollups_quarantine')
      .orderBy(['metric', 'bucket_start'])
      .select('metric', 'count', 'reason');
    expect(quarantined.map((q: { metric: string }) => q.metric)).toEqual([
      'latency_ms',
      'revenue',
      'revenue',
    ]);
    for (const q of quarantined) expect(q.reason).toMatch(/too large/);

    const figures = await readVersionMetrics(db.knex, { model: MODEL, versions: ['1.0.0'] });
    const latency = figures['1.0.0']!.latency_ms!;
    expect(latency.summary.n).toBe(50);
    expect(latency.summary.mean).toBeCloseTo(22, 6);
    expect(Number.isFinite(latency.summary.variance)).toBe(true);
    expect(latency.quantiles!.p99).toBeLessThan(30);
    expect(figures['1.0.0']!.revenue).toBeUndefined();
    const health = await modelHealth(db.knex, MODEL);
    expect(JSON.stringify(health)).not.toMatch(/Infinity|NaN/);
  });

  it('new values that large are refused at ingestion, so nothing poisons the rollups again', async () => {
    const recorder = createRecorder({ databaseUrl: db.url });
    const outcome = await recorder.recordPredictions(
      [
        { requestId: 'x1', model: MODEL, version: '1.0.0', prediction: 1, latencyMs: 1e308 },
        { requestId: 'x2', model: MODEL, version: '1.0.0', prediction: 1, metrics: { revenue: 1e200 } },
        { requestId: 'x3', model: MODEL, version: '1.0.0', prediction: 1e308 },
      ],
      { durable: true },
    );
    await recorder.close();
    expect(outcome.accepted).toBe(0);
    expect(outcome.rejected.map((r) => r.field)).toEqual(['latencyMs', 'metrics.revenue', 'prediction']);
    const { n } = (await db.knex('metric_rollups_quarantine').count({ n: '*' }).first()) as { n: string };
    expect(Number(n)).toBe(3);
  });

  it('rolled back, the quarantined rows return unchanged; migrated again, they leave again', async () => {
    for (const _ of QUARANTINE_AND_LATER)
      await db.knex.migrate.down({ migrationSource, tableName: 'knex_migrations' });
    const back = await db.knex('metric_rollups').where({ model: MODEL }).where('count', 1).select('metric');
    expect(back.map((r: { metric: string }) => r.metric).sort()).toEqual([
      'latency_ms',
      'revenue',
      'revenue',
    ]);
    expect(await migrateLatest(db.knex)).toEqual(QUARANTINE_AND_LATER);
    const { n } = (await db.knex('metric_rollups_quarantine').count({ n: '*' }).first()) as { n: string };
    expect(Number(n)).toBe(3);
    const [row] = await db
      .knex('metric_rollups_quarantine')
      .select('sum_cubes', 'histogram_moments')
      .limit(1);
    expect(row).toEqual({ sum_cubes: null, histogram_moments: {} });
  });
});
