import type { ArenaEnv } from '../config/env.js';
import { UserFacingError } from '../errors.js';
import { readState } from './state.js';
import type { StackEndpoints } from './index.js';

/**
 * Where a worker, gateway or CLI command finds Temporal and Postgres without starting anything:
 * the environment first, then what `arena dev up` recorded in .arena/stack.json.
 */
export async function resolveEndpoints(env: ArenaEnv): Promise<StackEndpoints> {
  const state = await readState(env.arenaHome);
  const temporalAddress =
    env.TEMPORAL_ADDRESS ?? state.temporal?.address ?? `127.0.0.1:${env.ARENA_TEMPORAL_PORT}`;
  const url = env.DATABASE_URL ?? state.postgres?.url;
  if (!url) {
    throw new UserFacingError(
      'No database configured: DATABASE_URL is not set and the embedded stack is not running',
      'Run `npm run arena -- dev up` first, or set DATABASE_URL.',
      { code: 'configuration' },
    );
  }
  return {
    temporal: { address: temporalAddress, ui: state.temporal?.ui || undefined },
    database: { url },
  };
}
