import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { createLogger } from '../../log.js';
import { createProgress } from '../../stack/progress.js';
import { emit } from '../output.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('bring up the embedded stack and run Arena end to end')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const env = loadEnv();
      const log = createLogger(env.LOG_LEVEL);
      const { ensureStack } = await import('../../stack/index.js');
      const { runStackCheck } = await import('../../stack/check.js');
      const up = await ensureStack({ env, log, progress: createProgress() });
      // Until the rollout workflow lands, the demo proves the stack with the wiring workflow.
      const check = await runStackCheck(env, log);
      const ui = up.temporal.ui;
      emit(opts.json, { stack: { temporal: up.temporal, database: up.database }, check }, () =>
        [
          `Temporal ${up.temporal.address} (${up.how.temporal})`,
          `Postgres ${up.database.url} (${up.how.database})`,
          `Workflow ${check.workflowId} ran on a worker and wrote audit row ${check.auditId}; read back from Postgres.`,
          ui
            ? `See it in the Web UI: ${ui}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows/${check.workflowId}`
            : '',
          'The stack keeps running; stop it with: npm run arena -- dev down',
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });
}
