import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateLatest } from '../../../src/db/migrate.js';
import { migrationSource } from '../../../src/db/migrations/index.js';
import { createTestDatabase, dayPartitionNames, type TestDatabase } from '../../support/database.js';

/**
 * Migration 20261204000013 moves existing rows into day partitions: each request anchored at the UTC day of
 * its earliest prediction or feedback, every row kept, and back again on the way down.
 */
const TIME_PARTITIONS_AND_LATER = ['20261204000013_time_partitions', '20261205000014_requests_key_order'];

describe('the time-partitions migration on real Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('time_partitions');
    for (const _ of TIME_PARTITIONS_AND_LATER)
      await db.knex.migrate.down({ migrationSource, tableName: 'knex_migrations' });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const prediction = (request_id: string, version: string, at: string, role = 'served') => ({
    tenant_id: 'default',
    request_id,
    model: 'm',
    version,
    role,
    value: 1,
    prediction: JSON.stringify(1),
    at,
  });

  it('anchors each request at its earliest record, keeps every row, and is undone', async () => {
    // Just before midnight UTC is still the 1st, whatever the server's time zone.
    await db
      .knex('predictions')
      .insert([
        prediction('a', '1.0.0', '2026-11-01T23:59:59.000Z'),
        prediction('a', '1.1.0', '2026-11-02T00:00:01.000Z', 'shadow'),
        prediction('b', '1.0.0', '2026-11-03T10:00:00.000Z'),
        { ...prediction('c', '1.0.0', '2026-11-05T10:00:00.000Z'), tenant_id: 'acme' },
      ]);
    await db.knex('feedback').insert([
      {
        tenant_id: 'default',
        model: 'm',
        request_id: 'a',
        value: 2,
        actual: JSON.stringify(2),
        at: '2026-11-04T00:00:00Z',
      },
      // An actual stamped before its prediction: the request belongs to the earlier day.
      {
        tenant_id: 'default',
        model: 'm',
        request_id: 'b',
        value: 3,
        actual: JSON.stringify(3),
        at: '2026-11-02T12:00:00Z',
      },
      {
        tenant_id: 'default',
        model: 'm',
        request_id: 'orphan',
        value: 4,
        actual: JSON.stringify(4),
        at: '2026-11-06T12:00:00Z',
      },
    ]);

    expect(await migrateLatest(db.knex)).toEqual(TIME_PARTITIONS_AND_LATER);
    const days = async (table: string) =>
      (await db
        .knex(table)
        .orderBy(['tenant_id', 'request_id'])
        .select('tenant_id', 'request_id', db.knex.raw('day::text as day'))) as Array<Record<string, string>>;
    expect(await days('requests')).toEqual([
      { tenant_id: 'acme', request_id: 'c', day: '2026-11-05' },
      { tenant_id: 'default', request_id: 'a', day: '2026-11-01' },
      { tenant_id: 'default', request_id: 'b', day: '2026-11-02' },
      { tenant_id: 'default', request_id: 'orphan', day: '2026-11-06' },
    ]);
    // 20261205000014: the same key, led by the column that settles comparisons.
    const { rows: key } = await db.knex.raw<{ rows: Array<{ column: string }> }>(
      `select a.attname as column
         from pg_index i cross join unnest(i.indkey) with ordinality as k(attnum, ord)
         join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where i.indexrelid = 'requests_pkey'::regclass and i.indisprimary
        order by k.ord`,
    );
    expect(key.map((k) => k.column)).toEqual(['request_id', 'model', 'tenant_id']);
    await expect(
      db.knex('requests').insert({ tenant_id: 'default', model: 'm', request_id: 'a', day: '2026-11-09' }),
    ).rejects.toThrow(/requests_pkey/);
    const predictions = await db
      .knex('predictions')
      .orderBy(['tenant_id', 'request_id', 'version'])
      .select('request_id', 'version', 'role', 'at', db.knex.raw('day::text as day'));
    expect(predictions.map((p) => [p.request_id, p.version, p.day])).toEqual([
      ['c', '1.0.0', '2026-11-05'],
      ['a', '1.0.0', '2026-11-01'],
      ['a', '1.1.0', '2026-11-01'],
      ['b', '1.0.0', '2026-11-02'],
    ]);
    expect(predictions[2]).toMatchObject({ role: 'shadow', at: new Date('2026-11-02T00:00:01.000Z') });
    expect((await days('feedback')).map((f) => f.day)).toEqual(['2026-11-01', '2026-11-02', '2026-11-06']);
    const partitions = await dayPartitionNames(db.knex, 'feedback');
    expect(partitions).toEqual([
      'feedback_20261101',
      'feedback_20261102',
      'feedback_20261105',
      'feedback_20261106',
    ]);
    expect(
      await db
        .knex('raw_data_days')
        .orderBy(['day', 'tenant_id'])
        .select(db.knex.raw('day::text as day'), 'tenant_id'),
    ).toEqual([
      { day: '2026-11-01', tenant_id: 'default' },
      { day: '2026-11-02', tenant_id: 'default' },
      { day: '2026-11-05', tenant_id: 'acme' },
      { day: '2026-11-06', tenant_id: 'default' },
    ]);

    // Down: the plain tables again, every row with its columns as before.
    for (const _ of TIME_PARTITIONS_AND_LATER)
      await db.knex.migrate.down({ migrationSource, tableName: 'knex_migrations' });
    expect(await db.knex('predictions').count({ n: '*' }).first()).toMatchObject({ n: expect.anything() });
    const back = await db.knex('predictions').orderBy(['tenant_id', 'request_id', 'version']);
    expect(back).toHaveLength(4);
    expect(back[0]).not.toHaveProperty('day');
    expect(await db.knex('feedback').pluck('request_id')).toEqual(
      expect.arrayContaining(['a', 'b', 'orphan']),
    );
    expect(await migrateLatest(db.knex)).toEqual(TIME_PARTITIONS_AND_LATER);
    expect(await db.knex('predictions').count({ n: '*' }).first()).toMatchObject({ n: 4 });
  });
});
