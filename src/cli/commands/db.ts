import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { createKnex } from '../../db/knex.js';
import { migrateLatest, migrationStatus } from '../../db/migrate.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { ensureDatabase } from '../../stack/postgres.js';
import { emit } from '../output.js';

export function registerDb(program: Command): void {
  const db = program.command('db').description('the Arena database (DATABASE_URL, or the embedded one)');

  db.command('migrate')
    .description('create the database if needed and run pending migrations')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { database } = await resolveEndpoints(loadEnv());
      await ensureDatabase(database.url);
      const knex = createKnex(database.url, { max: 1 });
      try {
        const ran = await migrateLatest(knex);
        emit(opts.json, { ran }, () => (ran.length ? `Ran: ${ran.join(', ')}` : 'Schema up to date'));
      } finally {
        await knex.destroy();
      }
    });

  db.command('status')
    .description('list completed and pending migrations')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { database } = await resolveEndpoints(loadEnv());
      const knex = createKnex(database.url, { max: 1 });
      try {
        const status = await migrationStatus(knex);
        emit(opts.json, status, () =>
          [
            ...status.completed.map((m) => `done     ${m}`),
            ...status.pending.map((m) => `pending  ${m}`),
          ].join('\n'),
        );
      } finally {
        await knex.destroy();
      }
    });
}
