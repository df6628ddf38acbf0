import { loadEnv } from '../config/env.js';
import { createKnex, type Knex } from '../db/knex.js';
import { resolveEndpoints } from '../stack/endpoints.js';

/** Opens the configured database for one CLI command and always closes it. */
export async function withKnex<T>(fn: (knex: Knex) => Promise<T>): Promise<T> {
  const { database } = await resolveEndpoints(loadEnv());
  const knex = createKnex(database.url, { max: 2 });
  try {
    return await fn(knex);
  } finally {
    await knex.destroy();
  }
}

/** Who is acting: --by, else ARENA_ACTOR, else the OS user, so every audited change names a person. */
export function actor(by: string | undefined): string {
  return by ?? process.env.ARENA_ACTOR ?? process.env.USER ?? 'unknown';
}
