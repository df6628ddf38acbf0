import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateLatest, migrateRollbackAll, migrationStatus } from '../../../src/db/migrate.js';
import { TENANT_ROLE, TENANT_TABLES } from '../../../src/db/migrations/20261122000001_initial_schema.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

async function tables(db: TestDatabase): Promise<string[]> {
  const rows = await db.knex('pg_tables').where({ schemaname: 'public' }).select('tablename');
  return rows
    .map((r: { tablename: string }) => r.tablename)
    .filter((t) => !t.startsWith('knex_'))
    .sort();
}

/** Tenant tables added by migrations after the first, also under row-level security. */
const LATER_TABLES = [
  'routing_history',
  'notification_deliveries',
  'metric_rollups_quarantine',
  'segment_rollups',
  'model_segments',
  'champion_baselines',
  'champion_monitor_events',
  'requests',
  'raw_data_days',
];

describe('migrations on real Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('migrations', { migrate: false });
  });
  afterAll(async () => db?.drop());

  it('run up, down and up again', async () => {
    const first = await migrateLatest(db.knex);
    expect(first.length).toBeGreaterThan(0);
    expect(await tables(db)).toEqual([...TENANT_TABLES, ...LATER_TABLES].sort());
    expect((await migrationStatus(db.knex)).pending).toEqual([]);

    await migrateRollbackAll(db.knex);
    expect(await tables(db)).toEqual([]);

    const again = await migrateLatest(db.knex);
    expect(again).toEqual(first);
    expect(await tables(db)).toEqual([...TENANT_TABLES, ...LATER_TABLES].sort());
    // Running latest on an up-to-date schema does nothing.
    expect(await migrateLatest(db.knex)).toEqual([]);
  });

  it('enables and forces row-level security on every tenant table', async () => {
    const rows = await db
      .knex('pg_class')
      .whereIn('relname', [...TENANT_TABLES, ...LATER_TABLES])
      .select('relname', 'relrowsecurity', 'relforcerowsecurity');
    expect(rows).toHaveLength(TENANT_TABLES.length + LATER_TABLES.length);
    for (const row of rows) {
      expect(row, row.relname).toMatchObject({ relrowsecurity: true, relforcerowsecurity: true });
    }
  });

  it('confines a tenant to its own rows, for reads and writes', async () => {
    await db.knex('models').insert([
      { tenant_id: 'acme', name: 'demand' },
      { tenant_id: 'globex', name: 'demand' },
    ]);
    const asTenant = <T>(
      tenant: string,
      fn: (trx: import('knex').Knex.Transaction) => Promise<T>,
    ): Promise<T> =>
      db.knex.transaction(async (trx) => {
        await trx.raw(`set local role ${TENANT_ROLE}`);
        await trx.raw(`select set_config('arena.tenant_id', ?, true)`, [tenant]);
        return fn(trx);
      });

    const seen = await asTenant('acme', (trx) => trx('models').select('tenant_id', 'name'));
    expect(seen).toEqual([{ tenant_id: 'acme', name: 'demand' }]);

    // Writing a row for another tenant is refused by the policy's WITH CHECK.
    await expect(
      asTenant('acme', (trx) => trx('models').insert({ tenant_id: 'globex', name: 'sneaky' })),
    ).rejects.toThrow(/row-level security/);
    // Updating or deleting another tenant's rows touches nothing.
    const updated = await asTenant('acme', (trx) =>
      trx('models').where({ tenant_id: 'globex' }).update({ description: 'x' }),
    );
    expect(updated).toBe(0);
    const deleted = await asTenant('acme', (trx) => trx('models').where({ tenant_id: 'globex' }).delete());
    expect(deleted).toBe(0);
    // Without a tenant setting a tenant-role session sees nothing at all (fail closed).
    const none = await db.knex.transaction(async (trx) => {
      await trx.raw(`set local role ${TENANT_ROLE}`);
      return trx('models').select('*');
    });
    expect(none).toEqual([]);
    expect(await db.knex('models').count({ n: '*' }).first()).toEqual({ n: 2 });
  });
});
