import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { Knex } from '../../src/db/knex.js';
import { createLogger } from '../../src/log.js';
import type { NotifyConfig } from '../../src/notify/config.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { installWorkerRuntime } from '../../src/worker/runtime.js';

export interface TestTemporal {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  namespace: string;
  /** A task queue of this file's own, so files never pick up each other's tasks. */
  taskQueue: string;
  /** A worker on the file's task queue; `notify`: webhook sinks for its alerts and events. */
  worker(knex: Knex, extra?: { clock?: () => Date; notify?: NotifyConfig }): Promise<Worker>;
  close(): Promise<void>;
}

export async function connectTestTemporal(): Promise<TestTemporal> {
  const stack = inject('stack');
  installWorkerRuntime();
  const connection = await Connection.connect({ address: stack.temporalAddress });
  const nativeConnection = await NativeConnection.connect({ address: stack.temporalAddress });
  const taskQueue = `test-${randomUUID()}`;
  return {
    client: new Client({ connection, namespace: stack.namespace }),
    connection,
    nativeConnection,
    namespace: stack.namespace,
    taskQueue,
    worker: (knex, { clock, notify } = {}) =>
      createWorker({
        connection: nativeConnection,
        namespace: stack.namespace,
        taskQueue,
        knex,
        log: createLogger('warn'),
        ...(clock ? { clock } : {}),
        ...(notify ? { notify } : {}),
        // Tests record with 1-second rollup buckets so stages of seconds have whole buckets to analyze.
        rollupBucketMs: 1000,
        // Rollouts started by workflows (retraining, experiments) get ids of this run's own: the server is
        // shared with earlier runs, whose rollouts of a same-named model may still be open.
        rolloutWorkflowPrefix: `rollout-${taskQueue.slice(-8)}`,
        workerOptions: { workflowBundle: { code: inject('workflowBundleCode') } },
      }),
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}
