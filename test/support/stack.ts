import type { Worker } from '@temporalio/worker';
import { ArenaClient } from '../../src/client/arena-client.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { connectTestTemporal, type TestTemporal } from './temporal.js';

/** A test file's own database, Temporal task queue and running worker, with a client for rollouts. */
export interface TestStack {
  db: TestDatabase;
  temporal: TestTemporal;
  arena: ArenaClient;
  /** Stops the worker, closes Temporal and drops the database. */
  stop(): Promise<void>;
}

/** `prefix` keeps this file's rollout workflow ids apart from other runs' on the shared server. */
export async function startTestStack(database: string, prefix: string): Promise<TestStack> {
  const db = await createTestDatabase(database);
  const temporal = await connectTestTemporal();
  const worker: Worker = await temporal.worker(db.knex);
  const running = worker.run();
  const arena = new ArenaClient({
    temporal: temporal.client,
    knex: db.knex,
    taskQueue: temporal.taskQueue,
    workflowIdPrefix: `${prefix}-${temporal.taskQueue.slice(-8)}`,
  });
  return {
    db,
    temporal,
    arena,
    async stop() {
      worker.shutdown();
      await running;
      await temporal.close();
      await db.drop();
    },
  };
}
