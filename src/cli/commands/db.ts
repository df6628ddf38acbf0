import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { RetentionOutcome } from '../../../activities/retention.js';
import { loadEnv } from '../../config/env.js';
import { createKnex } from '../../db/knex.js';
import { migrateLatest, migrationStatus } from '../../db/migrate.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { ensureDatabase } from '../../stack/postgres.js';
import { emit } from '../output.js';
import { withTemporal } from '../temporal.js';

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

  db.command('retention')
    .description(
      'drop the days of raw predictions and feedback that every model on them has let go (its feedback window plus monitoring.retention.rawDays), as the daily arena-retention schedule does; rollups and analyses stay',
    )
    .option('--dry-run', 'list each day with what would happen and why, and drop nothing')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      const out = await withTemporal(async ({ client, taskQueue }) => {
        const handle = await client.workflow.start('retentionWorkflow', {
          taskQueue,
          workflowId: `arena-retention-now-${randomBytes(3).toString('hex')}`,
          args: [{ dryRun: Boolean(opts.dryRun) }],
        });
        return (await handle.result()) as RetentionOutcome;
      });
      emit(opts.json, out, () =>
        [
          ...out.days.map((d) => {
            const what = d.dropped ? 'dropped' : d.drop ? (out.dryRun ? 'would drop' : 'busy') : 'kept';
            return `${d.day}  ${(d.bytes / 1e6).toFixed(1).padStart(9)} MB  ${what.padEnd(10)}  ${d.busy ?? d.reason}`;
          }),
          out.dryRun
            ? `${out.days.filter((d) => d.drop).length} of ${out.days.length} days would be dropped (dry run).`
            : `Dropped ${out.dropped} of ${out.days.length} days, ${(out.freedBytes / 1e6).toFixed(1)} MB.`,
        ].join('\n'),
      );
    });
}
