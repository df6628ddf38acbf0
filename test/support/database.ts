import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createKnex, type Knex } from '../../src/db/knex.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { ensureDatabase } from '../../src/stack/postgres.js';

export interface TestDatabase {
  knex: Knex;
  url: string;
  name: string;
  drop(): Promise<void>;
}

/**
 * A fresh database per test file on the run's Postgres server, so files run in parallel without seeing
 * each other's rows. `migrate: false` leaves it empty (for the migration test).
 */
export async function createTestDatabase(prefix: string, { migrate = true } = {}): Promise<TestDatabase> {
  const base = new URL(inject('stack').databaseUrl);
  const name = `arena_test_${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const url = new URL(base);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  const knex = createKnex(url.toString(), { max: 5 });
  if (migrate) await migrateLatest(knex);
  return {
    knex,
    url: url.toString(),
    name,
    async drop() {
      await knex.destroy();
      const admin = new URL(base);
      admin.pathname = '/postgres';
      const adminKnex = createKnex(admin.toString(), { max: 1 });
      try {
        await adminKnex.raw(`drop database if exists ?? with (force)`, [name]);
      } finally {
        await adminKnex.destroy();
      }
    },
  };
}

/** The day partitions of a partitioned raw table (`predictions`, `feedback`), by name, in order. */
export async function dayPartitionNames(
  knex: TestDatabase['knex'],
  table: 'predictions' | 'feedback',
): Promise<string[]> {
  const { rows } = await knex.raw<{ rows: Array<{ name: string }> }>(
    `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent = ?::regclass order by 1`,
    [table],
  );
  return rows.map((r) => r.name);
}
