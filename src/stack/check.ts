import { randomUUID } from 'node:crypto';
import type { ArenaEnv } from '../config/env.js';
import { auditHashOf } from '../db/audit.js';
import { createKnex } from '../db/knex.js';
import type { Logger } from '../log.js';
import {
  connectClient,
  connectWorker,
  temporalClient,
  temporalTargetFromEnv,
} from '../temporal/connection.js';
import { createWorker } from '../worker/create-worker.js';
import { UserFacingError } from '../errors.js';
import { resolveEndpoints } from './endpoints.js';

export interface StackCheckResult {
  workflowId: string;
  runId: string;
  auditId: number;
  hash: string;
  readBack: boolean;
}

/** Runs stackCheckWorkflow on a throw-away task queue with an in-process worker and reads its row back. */
export async function runStackCheck(env: ArenaEnv, log: Logger): Promise<StackCheckResult> {
  const endpoints = await resolveEndpoints(env);
  const target = temporalTargetFromEnv(env, endpoints.temporal.address);
  const knex = createKnex(endpoints.database.url, { max: 2 });
  const connection = await connectClient(target);
  const nativeConnection = await connectWorker(target);
  const taskQueue = `arena-check-${randomUUID()}`;
  try {
    const worker = await createWorker({
      connection: nativeConnection,
      namespace: target.namespace,
      taskQueue,
      knex,
      log,
    });
    const client = temporalClient(connection, target.namespace);
    const result = await worker.runUntil(
      client.workflow.execute('stackCheckWorkflow', {
        taskQueue,
        workflowId: `stack-check-${randomUUID()}`,
        args: [{ requestedBy: 'arena dev check' }],
      }),
    );
    const hash = await auditHashOf(knex, result.auditId);
    if (hash !== result.hash) {
      throw new UserFacingError(
        `The workflow reported audit row ${result.auditId} but Postgres holds ${hash !== undefined ? 'a different hash' : 'no such row'}`,
        'The worker and this command use different databases: check DATABASE_URL.',
      );
    }
    return { ...result, readBack: true };
  } finally {
    await nativeConnection.close();
    await connection.close();
    await knex.destroy();
  }
}
