import type { ArenaEnv } from '../config/env.js';
import { createKnex } from '../db/knex.js';
import { migrateLatest } from '../db/migrate.js';
import type { Logger } from '../log.js';
import { ensurePostgres, stopEmbeddedPostgres } from './postgres.js';
import { isAlive, stopProcess } from './processes.js';
import type { Progress } from './progress.js';
import { readState, writeState } from './state.js';
import { ensureTemporal } from './temporal-server.js';

export interface StackEndpoints {
  temporal: { address: string; ui: string | undefined };
  database: { url: string };
}

export interface StackUp extends StackEndpoints {
  /** What this call started (and so what the caller may stop); empty when everything was reused. */
  started: { temporalPid?: number; postgresDataDir?: string };
  how: { temporal: string; database: string };
  migrations: string[];
}

interface Deps {
  env: ArenaEnv;
  log: Logger;
  progress: Progress;
}

/**
 * Brings up Postgres and Temporal (DESIGN.md §2), idempotently: what already runs is reused.
 * Used by `arena dev up`, `npm run demo` and the test suite's global setup.
 */
export async function ensureStack({ env, log, progress }: Deps): Promise<StackUp> {
  const state = await readState(env.arenaHome);
  // Postgres first: it is quick, and a wrong DATABASE_URL should fail before a minutes-long CLI build.
  const database = await ensurePostgres({ env, log, progress, state });
  const knex = createKnex(database.url, { max: 2 });
  let migrations: string[];
  try {
    migrations = await migrateLatest(knex);
  } finally {
    await knex.destroy();
  }
  if (database.port !== undefined && database.dataDir !== undefined) {
    // The real data directory: outside .arena when the postgres user cannot reach it (a private clone as root).
    state.postgres = { port: database.port, dataDir: database.dataDir, url: database.url };
  }
  await writeState(env.arenaHome, state);

  const temporal = await ensureTemporal({ env, log, progress, state });
  if (temporal.startedPid !== undefined) {
    state.temporal = {
      pid: temporal.startedPid,
      address: temporal.address,
      ui: temporal.ui ?? '',
      cli: temporal.cliPath ?? temporal.how,
      source: temporal.how,
    };
    await writeState(env.arenaHome, state);
  }
  return {
    temporal: { address: temporal.address, ui: temporal.ui },
    database: { url: database.url },
    started: {
      ...(temporal.startedPid !== undefined ? { temporalPid: temporal.startedPid } : {}),
      ...(database.startedDataDir !== undefined ? { postgresDataDir: database.startedDataDir } : {}),
    },
    how: { temporal: temporal.how, database: database.how },
    migrations,
  };
}

/** Stops what `started` names (the caller's own processes); leaves anything it reused alone. */
export async function stopStarted(started: StackUp['started']): Promise<void> {
  if (started.temporalPid !== undefined) await stopProcess(started.temporalPid);
  if (started.postgresDataDir !== undefined) await stopEmbeddedPostgres(started.postgresDataDir);
}

/** `arena dev down`: stops the embedded processes recorded in .arena/stack.json. */
export async function stopStack({ env }: Pick<Deps, 'env'>): Promise<{ stopped: string[] }> {
  const state = await readState(env.arenaHome);
  const stopped: string[] = [];
  if (state.temporal && isAlive(state.temporal.pid)) {
    await stopProcess(state.temporal.pid);
    stopped.push(`Temporal dev server (pid ${state.temporal.pid})`);
  }
  if (state.postgres) {
    await stopEmbeddedPostgres(state.postgres.dataDir);
    stopped.push(`embedded PostgreSQL (${state.postgres.dataDir})`);
  }
  await writeState(env.arenaHome, {});
  return { stopped };
}
