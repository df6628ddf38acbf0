import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import getPort from 'get-port';
import { loadEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { locateTemporalCli } from '../../src/stack/temporal-cli.js';
import { silentProgress } from '../../src/stack/progress.js';
import { SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';

/**
 * A Temporal dev server of the caller's own (fault tests, benchmarks): its own free ports, its own SQLite
 * file in a temporary directory, the Arena search attributes registered at start. It can be stopped, killed
 * and started again on the same ports and database file, which is what "the server restarted" means.
 * Nothing here touches the shared stack's server.
 *
 * Not importing vitest, so benchmarks can use it too.
 */
export interface OwnTemporalServer {
  /** 127.0.0.1:port of the frontend, the same across restarts. */
  readonly address: string;
  readonly namespace: string;
  /** The SQLite file; undefined for an in-memory server (`persistent: false`), which loses everything on stop. */
  readonly dbFile: string | undefined;
  /** The pid of the current server process; undefined while it is down. */
  pid(): number | undefined;
  /** Starts the server (again) on the same ports and database file; resolves once it answers. */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. Returns the signal that ended it. */
  stop(graceMs?: number): Promise<'SIGTERM' | 'SIGKILL' | 'not running'>;
  /** Stops the server and deletes its directory. Safe to call more than once. */
  destroy(): Promise<void>;
  /** The tail of the server's log, for failure messages. */
  logTail(lines?: number): Promise<string>;
}

async function answers(address: string, namespace: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.getSystemInfo({});
    // The namespace must be usable too, not only the frontend.
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function startOwnTemporalServer(
  options: {
    namespace?: string;
    /** Keep state in a SQLite file (default) so a restart resumes; false = in memory, faster, gone on stop. */
    persistent?: boolean;
    /** PRAGMA=VALUE statements for the SQLite store, e.g. synchronous=OFF. */
    sqlitePragmas?: string[];
    dynamicConfig?: Record<string, unknown>;
  } = {},
): Promise<OwnTemporalServer> {
  const env = loadEnv();
  const cli = await locateTemporalCli({
    cliPathEnv: env.TEMPORAL_CLI_PATH,
    arenaHome: env.arenaHome,
    cacheDir: env.cacheDir,
    log: createLogger('warn'),
    progress: silentProgress,
  });
  const namespace = options.namespace ?? 'default';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'arena-temporal-'));
  const dbFile = options.persistent === false ? undefined : path.join(dir, 'temporal.db');
  const logFile = path.join(dir, 'temporal.log');
  const port = await getPort({ host: '127.0.0.1' });
  const httpPort = await getPort({ host: '127.0.0.1', exclude: [port] });
  const metricsPort = await getPort({ host: '127.0.0.1', exclude: [port, httpPort] });
  const address = `127.0.0.1:${port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--headless',
    ...(dbFile ? ['--db-filename', dbFile] : []),
    ...(options.sqlitePragmas ?? []).flatMap((pragma) => ['--sqlite-pragma', pragma]),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => [
      '--dynamic-config-value',
      `${key}=${JSON.stringify(value)}`,
    ]),
  ];

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let destroyed = false;
  // Never leave a server behind when this process exits without destroy() (a crashed test run).
  const killOnExit = (): void => {
    child?.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  const server: OwnTemporalServer = {
    address,
    namespace,
    dbFile,
    pid: () => child?.pid,
    async start() {
      if (destroyed) throw new Error(`own Temporal server in ${dir} was destroyed`);
      if (child) throw new Error(`own Temporal server on ${address} is already running (pid ${child.pid})`);
      const out = openSync(logFile, 'a');
      let proc: ChildProcess;
      try {
        proc = spawn(cli.path, args, { cwd: dir, stdio: ['ignore', out, out] });
      } finally {
        closeSync(out);
      }
      child = proc;
      let gone = false;
      exited = new Promise<void>((resolve) => {
        proc.once('exit', () => {
          gone = true;
          if (child === proc) child = undefined;
          resolve();
        });
      });
      const deadline = Date.now() + 60_000;
      while (!(await answers(address, namespace))) {
        if (gone) throw new Error(`own Temporal server exited during start-up:\n${await server.logTail()}`);
        if (Date.now() > deadline) {
          await server.stop();
          throw new Error(
            `own Temporal server did not answer on ${address} within 60 s:\n${await server.logTail()}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async stop(graceMs = 10_000) {
      const proc = child;
      if (!proc) return 'not running';
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      return proc.signalCode === 'SIGKILL' ? 'SIGKILL' : 'SIGTERM';
    },
    async destroy() {
      if (destroyed) return;
      try {
        await server.stop(5_000);
      } finally {
        destroyed = true;
        process.off('exit', killOnExit);
        await rm(dir, { recursive: true, force: true });
      }
    },
    async logTail(lines = 20) {
      return (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-lines).join('\n');
    },
  };

  try {
    await server.start();
  } catch (err) {
    await server.destroy().catch(() => undefined);
    throw err;
  }
  return server;
}
