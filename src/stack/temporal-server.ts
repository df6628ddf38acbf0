import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { ArenaEnv } from '../config/env.js';
import type { Logger } from '../log.js';
import { UserFacingError } from '../errors.js';
import { connectClient, temporalTargetFromEnv } from '../temporal/connection.js';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';
import { locateTemporalCli } from './temporal-cli.js';
import { isAlive, isPortOpen, sleep, spawnDetached } from './processes.js';
import type { Progress } from './progress.js';
import type { StackState } from './state.js';

export interface TemporalEndpoint {
  address: string;
  /** The Web UI; undefined for an external cluster whose UI Arena does not know. */
  ui: string | undefined;
  /** Set when this call started the server (the caller owns it and may stop it). */
  startedPid: number | undefined;
  /** How the server was obtained, e.g. "reused the server already listening on 127.0.0.1:7233". */
  how: string;
  /** The CLI binary this call started the server with (for `arena --version`). */
  cliPath?: string;
}

interface Deps {
  env: ArenaEnv;
  log: Logger;
  progress: Progress;
  state: StackState;
}

/** Asks the frontend for its system info: the cheapest call that proves a Temporal server answers. */
async function answersAsTemporal(address: string, timeoutMs = 2_000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

async function waitForHttp200(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return true;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  return false;
}

/** Registers the search attributes Arena's workflows set, on a server that lacks them (idempotent). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(
    ([name]) => !(name in (existing.customAttributes ?? {})),
  );
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map(([name]) => [
        name,
        proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
}

/**
 * TEMPORAL_ADDRESS when set; otherwise a dev server on 127.0.0.1 that is already listening, or one started
 * here with its state in .arena/temporal.db so workflows survive restarts.
 */
export async function ensureTemporal({ env, log, progress, state }: Deps): Promise<TemporalEndpoint> {
  if (env.TEMPORAL_ADDRESS) {
    const connection = await connectClient(temporalTargetFromEnv(env, env.TEMPORAL_ADDRESS));
    try {
      await connection.workflowService.getSystemInfo({});
      await ensureSearchAttributes(connection, env.TEMPORAL_NAMESPACE).catch((err: Error) =>
        // Temporal Cloud manages search attributes through its own control plane, not the operator API.
        log.warn(
          { err: err.message },
          'could not register search attributes; register ArenaModel, ArenaVersion, ArenaState, ArenaStage (Keyword) yourself',
        ),
      );
    } finally {
      await connection.close();
    }
    return { address: env.TEMPORAL_ADDRESS, ui: undefined, startedPid: undefined, how: 'TEMPORAL_ADDRESS' };
  }

  const port = env.ARENA_TEMPORAL_PORT;
  const uiPort = env.ARENA_TEMPORAL_UI_PORT;
  const address = `127.0.0.1:${port}`;
  const ui = `http://127.0.0.1:${uiPort}`;

  if (await isPortOpen(port)) {
    if (!(await answersAsTemporal(address))) {
      throw new UserFacingError(
        `Port ${port} is in use by something that is not a Temporal server`,
        `Stop what listens on ${port}, or set ARENA_TEMPORAL_PORT (and ARENA_TEMPORAL_UI_PORT) to free ports, or TEMPORAL_ADDRESS to an existing server.`,
      );
    }
    const connection = await Connection.connect({ address });
    try {
      await ensureSearchAttributes(connection, env.TEMPORAL_NAMESPACE);
    } finally {
      await connection.close();
    }
    const known = state.temporal && state.temporal.address === address && isAlive(state.temporal.pid);
    return {
      address,
      ui: (await isPortOpen(uiPort)) ? ui : undefined,
      startedPid: undefined,
      how: known
        ? `reused the dev server started earlier (pid ${state.temporal?.pid})`
        : `reused the Temporal server already listening on ${address}`,
    };
  }
  if (await isPortOpen(uiPort)) {
    throw new UserFacingError(
      `Port ${uiPort} (Temporal Web UI) is in use`,
      `Stop what listens on ${uiPort}, or set ARENA_TEMPORAL_UI_PORT to a free port.`,
    );
  }

  const cli = await locateTemporalCli({
    cliPathEnv: env.TEMPORAL_CLI_PATH,
    arenaHome: env.arenaHome,
    cacheDir: env.cacheDir,
    log,
    progress,
  });
  progress.info(
    `Temporal CLI: ${cli.path} (${cli.source}${cli.skipped.length ? `; ${cli.skipped.join('; ')}` : ''})`,
  );

  await mkdir(env.arenaHome, { recursive: true });
  const logFile = path.join(env.arenaHome, 'temporal.log');
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    path.join(env.arenaHome, 'temporal.db'),
    '--namespace',
    env.TEMPORAL_NAMESPACE,
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  const pid = spawnDetached(cli.path, args, logFile, env.arenaHome);
  progress.start(`Starting the Temporal dev server on ${address}`);
  try {
    const deadline = Date.now() + 60_000;
    while (!(await answersAsTemporal(address, 1_000))) {
      if (!isAlive(pid)) {
        const tail = (await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-15).join('\n');
        throw new UserFacingError(
          `The Temporal dev server exited during start-up. Last lines of ${logFile}:\n${tail}`,
          `Fix the cause above (a port in use, a corrupt ${path.join(env.arenaHome, 'temporal.db')} — delete it to start afresh) and retry.`,
        );
      }
      if (Date.now() > deadline) {
        throw new UserFacingError(
          `The Temporal dev server (pid ${pid}) did not answer on ${address} within 60 s`,
          `Read ${logFile}, then run \`npm run arena -- dev down\` and retry.`,
        );
      }
      await sleep(200);
    }
    if (!(await waitForHttp200(ui, 30_000))) {
      log.warn({ ui }, 'the Temporal Web UI did not answer HTTP 200 within 30 s');
    }
    progress.succeed(`Temporal dev server up on ${address}, Web UI ${ui}`);
  } finally {
    progress.stop();
  }
  return {
    address,
    ui,
    startedPid: pid,
    how: `started a dev server with ${cli.source} (${cli.path})`,
    cliPath: cli.path,
  };
}
