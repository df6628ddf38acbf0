import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { loadEnv } from '../src/config/env.js';
import { createLogger } from '../src/log.js';
import { ensureStack, stopStarted, type StackUp } from '../src/stack/index.js';
import { createProgress } from '../src/stack/progress.js';
import { locateTemporalCli } from '../src/stack/temporal-cli.js';
import { workflowsPath } from '../src/worker/workflows-path.js';

let up: StackUp | undefined;

/**
 * One stack for the whole run, through the same stack manager as `arena dev up`: reuses a running dev stack,
 * otherwise starts Temporal and Postgres and stops them afterwards. The workflow bundle is built once here
 * instead of once per test file.
 */
export async function setup(project: TestProject): Promise<void> {
  const env = loadEnv();
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const progress = createProgress();
  up = await ensureStack({ env, log, progress });
  process.stderr.write(
    `test stack: Temporal ${up.temporal.address} (${up.how.temporal}); Postgres (${up.how.database})\n`,
  );
  // The `temporal` binary itself, for the tests that operate rollouts with nothing but Temporal's tools:
  // found the way the stack finds it (a cached build; built once if a reused stack had its own).
  const { path: temporalCli } = await locateTemporalCli({
    cliPathEnv: env.TEMPORAL_CLI_PATH,
    arenaHome: env.arenaHome,
    cacheDir: env.cacheDir,
    log,
    progress,
  });
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quietBundlerLogger });
  project.provide('stack', {
    temporalAddress: up.temporal.address,
    temporalUi: up.temporal.ui ?? '',
    databaseUrl: up.database.url,
    namespace: env.TEMPORAL_NAMESPACE,
    temporalCli,
  });
  project.provide('workflowBundleCode', code);
}

export async function teardown(): Promise<void> {
  if (up) await stopStarted(up.started);
}

const noop = (): void => undefined;
const quietBundlerLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, log: noop };

declare module 'vitest' {
  export interface ProvidedContext {
    stack: {
      temporalAddress: string;
      temporalUi: string;
      databaseUrl: string;
      namespace: string;
      temporalCli: string;
    };
    workflowBundleCode: string;
  }
}
