import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { servedFeatureSample } from '../../../src/monitoring/feature-sample.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('served feature sample (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('feature_sample');
  });
  afterAll(async () => db?.drop());

  it('takes the newest served, successful predictions of the version with features, bounded', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const row = (id: string, minute: number, extra: Record<string, unknown> = {}) => ({
      tenant_id: 'default',
      request_id: id,
      model: 'm',
      version: '1.0.0',
      role: 'served',
      value: minute,
      features: JSON.stringify({ x: minute }),
      at: new Date(t0 + minute * 60_000),
      // Rows written as the recorder would: in their request's day partition (docs/ingestion.md).
      day: '2026-01-01',
      ...extra,
    });
    await db.knex.raw(`select arena_ensure_day_partitions(array['2026-01-01']::date[])`);
    await db
      .knex('predictions')
      .insert([
        row('a', 1),
        row('b', 2),
        row('c', 3),
        row('d', 4, { value: null }),
        row('shadow', 5, { role: 'shadow' }),
        row('failed', 5, { error: true }),
        row('bare', 5, { features: null }),
        row('old-version', 5, { version: '0.9.0' }),
        row('late', 90),
      ]);
    const sample = await servedFeatureSample(db.knex, {
      tenantId: 'default',
      model: 'm',
      version: '1.0.0',
      from: new Date(t0),
      to: new Date(t0 + 60 * 60_000),
      limit: 3,
    });
    expect(sample).toEqual([
      { features: { x: 4 }, value: null },
      { features: { x: 3 }, value: 3 },
      { features: { x: 2 }, value: 2 },
    ]);
  });
});
