import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { createLogger } from '../../log.js';
import { createProgress } from '../../stack/progress.js';
import { emit } from '../output.js';

// Commands import the Temporal SDK and the stack lazily: `arena model list` should not pay for them.

export function registerDev(program: Command): void {
  const dev = program
    .command('dev')
    .description('the embedded local stack (Temporal dev server + PostgreSQL)');

  dev
    .command('up')
    .description('start (or reuse) Temporal and PostgreSQL, run migrations, print the endpoints')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const env = loadEnv();
      const { ensureStack } = await import('../../stack/index.js');
      const up = await ensureStack({ env, log: createLogger(env.LOG_LEVEL), progress: createProgress() });
      emit(
        opts.json,
        { temporal: up.temporal, database: up.database, how: up.how, migrations: up.migrations },
        () =>
          [
            `Temporal  ${up.temporal.address}   (${up.how.temporal})`,
            `Web UI    ${up.temporal.ui ?? '(not known for an external server)'}`,
            `Postgres  ${up.database.url}   (${up.how.database})`,
            up.migrations.length ? `Migrations run: ${up.migrations.join(', ')}` : 'Schema up to date',
            'Stop with: npm run arena -- dev down',
          ].join('\n'),
      );
    });

  dev
    .command('down')
    .description('stop what `arena dev up` started')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { stopStack } = await import('../../stack/index.js');
      const { stopped } = await stopStack({ env: loadEnv() });
      emit(opts.json, { stopped }, () =>
        stopped.length ? `Stopped: ${stopped.join(', ')}` : 'Nothing was running',
      );
    });

  dev
    .command('check')
    .description(
      'run a workflow end to end (client → Temporal → worker → activity → Postgres) and read the row back',
    )
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const env = loadEnv();
      const { runStackCheck } = await import('../../stack/check.js');
      const result = await runStackCheck(env, createLogger(env.LOG_LEVEL));
      emit(
        opts.json,
        result,
        () =>
          `OK: workflow ${result.workflowId} wrote audit row ${result.auditId} (${result.hash.slice(0, 12)}…)`,
      );
    });
}
