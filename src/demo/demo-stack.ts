import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { createLocalArtifactStore } from '../artifacts/local-store.js';
import { defaultArtifactDir, type ArtifactStore } from '../artifacts/store.js';
import { ArenaClient } from '../client/arena-client.js';
import type { ArenaEnv } from '../config/env.js';
import { createKnex } from '../db/knex.js';
import type { Logger } from '../log.js';
import { loadRolloutReport, type RolloutReportData } from '../report/rollout-report-data.js';
import { renderRolloutReportHtml } from '../report/rollout-report-html.js';
import { ensureStack, stopStarted, type StackUp } from '../stack/index.js';
import type { Progress } from '../stack/progress.js';
import {
  connectClient,
  connectWorker,
  temporalClient,
  temporalTargetFromEnv,
} from '../temporal/connection.js';
import { createWorker } from '../worker/create-worker.js';

/** What every demo example runs on: the embedded stack, a worker in this process and a client. */
export interface DemoStack {
  up: StackUp;
  knex: Knex;
  arena: ArenaClient;
  namespace: string;
  store: ArtifactStore;
  interrupted(): boolean;
  /** The Temporal Web UI's page of a workflow, when the UI is known. */
  webUi(workflowId: string): string | null;
  /** Writes the rollout's HTML report under ARENA_HOME/reports and returns its path and data. */
  writeReport(rolloutId: string): Promise<{ path: string; data: RolloutReportData }>;
  close(): Promise<void>;
}

export async function startDemoStack(opts: {
  env: ArenaEnv;
  log: Logger;
  progress: Progress;
  out: (text: string) => void;
}): Promise<DemoStack> {
  const { env, log, out } = opts;
  const up = await ensureStack({ env, log, progress: opts.progress });
  const knex = createKnex(up.database.url, { max: 4 });
  const target = temporalTargetFromEnv(env, up.temporal.address);
  const connection = await connectClient(target);
  const nativeConnection = await connectWorker(target);
  const taskQueue = `arena-demo-${randomBytes(3).toString('hex')}`;
  const worker = await createWorker({
    connection: nativeConnection,
    namespace: target.namespace,
    taskQueue,
    knex,
    log,
    rollupBucketMs: 1000,
  });
  const running = worker.run();
  const arena = new ArenaClient({
    temporal: temporalClient(connection, target.namespace),
    knex,
    taskQueue,
  });
  const reportDir = join(env.arenaHome, 'reports');
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    out('\nInterrupted: stopping what the demo started…');
  };
  process.once('SIGINT', onSigint);
  return {
    up,
    knex,
    arena,
    namespace: target.namespace,
    store: createLocalArtifactStore(defaultArtifactDir(env)),
    interrupted: () => interrupted,
    webUi: (workflowId) =>
      up.temporal.ui
        ? `${up.temporal.ui}/namespaces/${target.namespace}/workflows/${encodeURIComponent(workflowId)}`
        : null,
    async writeReport(rolloutId) {
      const path = join(reportDir, `${rolloutId}.html`);
      await mkdir(reportDir, { recursive: true });
      const data = await loadRolloutReport(knex, rolloutId, {
        temporalUi: up.temporal.ui ?? null,
        namespace: target.namespace,
      });
      await writeFile(path, renderRolloutReportHtml(data));
      return { path, data };
    },
    async close() {
      process.off('SIGINT', onSigint);
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
      await knex.destroy();
      if (interrupted) await stopStarted(up.started);
    },
  };
}

/** Waits (up to a minute) until the rollout reaches `state`. */
export async function waitForState(
  arena: ArenaClient,
  rolloutId: string,
  state: string,
  interrupted: () => boolean,
): Promise<void> {
  for (let i = 0; i < 300 && !interrupted(); i++) {
    if ((await arena.status(rolloutId).catch(() => undefined))?.state === state) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
