import type { Client } from '@temporalio/client';
import { loadEnv } from '../config/env.js';
import { createKnex, type Knex } from '../db/knex.js';
import { resolveEndpoints } from '../stack/endpoints.js';

export interface TemporalContext {
  client: Client;
  knex: Knex;
  taskQueue: string;
  namespace: string;
}

/** Opens the configured Temporal connection and database for one CLI command and always closes both. */
export async function withTemporal<T>(fn: (ctx: TemporalContext) => Promise<T>): Promise<T> {
  const env = loadEnv();
  const endpoints = await resolveEndpoints(env);
  const { connectClient, temporalClient, temporalTargetFromEnv } = await import('../temporal/connection.js');
  const target = temporalTargetFromEnv(env, endpoints.temporal.address);
  const connection = await connectClient(target);
  const knex = createKnex(endpoints.database.url, { max: 2 });
  try {
    return await fn({
      client: temporalClient(connection, target.namespace),
      knex,
      taskQueue: env.ARENA_TASK_QUEUE,
      namespace: target.namespace,
    });
  } finally {
    await connection.close();
    await knex.destroy();
  }
}
