import type { Knex } from 'knex';
import { migrationSource } from './migrations/index.js';

const config: Knex.MigratorConfig = { migrationSource, tableName: 'knex_migrations' };

/** Brings the schema to the latest version; returns the names of the migrations it ran. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, ran] = (await knex.migrate.latest(config)) as [number, string[]];
  return ran;
}

export async function migrateRollbackAll(knex: Knex): Promise<string[]> {
  const [, ran] = (await knex.migrate.rollback(config, true)) as [number, string[]];
  return ran;
}

export async function migrationStatus(knex: Knex): Promise<{ completed: string[]; pending: string[] }> {
  const [completed, pending] = (await knex.migrate.list(config)) as [Array<{ name: string }>, string[]];
  return { completed: completed.map((m) => m.name), pending };
}
