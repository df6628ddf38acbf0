import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * A router in its own process, for propagation tests and the propagation benchmark.
 *
 * As a script: `node --import tsx router-process.ts DATABASE_URL MODEL [--request=ID] [--poll=MS] [--no-listen]`
 * creates a router and prints one JSON line (RouterProcessLine) on stdout when it is ready and one each time
 * it applies a newer generation of MODEL, with its decision for the fixed request id and a high-resolution
 * wall-clock timestamp. It exits when its stdin closes (so it never outlives its parent) or on SIGTERM.
 *
 * `--no-listen` makes LISTEN unavailable: the router reads the table through a pool on DATABASE_URL but its
 * notification connection points at a closed port, so only polling brings changes (the baseline).
 *
 * As a module: spawnRouterProcess() starts such a child and collects its lines.
 */
export interface RouterProcessLine {
  event: 'ready' | 'change';
  pid: number;
  model: string;
  generation: number;
  /** The decision for the fixed request id; null with `error` when route() threw (e.g. no champion). */
  serve: string | null;
  via: string | null;
  bucket: number | null;
  shadow: string[];
  error: string | null;
  listening: boolean;
  /** performance.timeOrigin + performance.now() when the change was applied (ms since the epoch). */
  at: number;
}

export interface RouterProcessOptions {
  requestId?: string;
  pollIntervalMs?: number;
  noListen?: boolean;
}

export interface RouterProcess {
  readonly pid: number;
  /** Every line received so far, in order. */
  readonly lines: RouterProcessLine[];
  /** Resolves with the first line (already received or future) matching `predicate`; rejects after timeoutMs. */
  waitFor(predicate: (line: RouterProcessLine) => boolean, timeoutMs?: number): Promise<RouterProcessLine>;
  /** Closes the child's stdin (it closes its router and exits); SIGKILL if it is still there after graceMs. */
  stop(graceMs?: number): Promise<void>;
  stderr(): string;
}

export const DEFAULT_REQUEST_ID = 'fixed-request-0001';
const SCRIPT = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SCRIPT), '..', '..');

export function spawnRouterProcess(
  databaseUrl: string,
  model: string,
  options: RouterProcessOptions = {},
): RouterProcess {
  const args = ['--import', 'tsx', SCRIPT, databaseUrl, model];
  if (options.requestId !== undefined) args.push(`--request=${options.requestId}`);
  if (options.pollIntervalMs !== undefined) args.push(`--poll=${options.pollIntervalMs}`);
  if (options.noListen) args.push('--no-listen');
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  const lines: RouterProcessLine[] = [];
  const waiters = new Set<{
    predicate: (l: RouterProcessLine) => boolean;
    resolve: (l: RouterProcessLine) => void;
  }>();
  let stderr = '';
  let exited: string | undefined;
  const failures = new Set<(err: Error) => void>();

  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: RouterProcessLine;
    try {
      line = JSON.parse(text) as RouterProcessLine;
    } catch {
      stderr += `\n[unparsed stdout] ${text}`;
      return;
    }
    lines.push(line);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  const exitPromise = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`;
      for (const fail of failures) fail(new Error(`router process ${child.pid} ${exited}\n${stderr}`));
      resolve();
    });
  });
  // An EPIPE on a child that has gone is reported through 'exit'.
  child.stdin.on('error', () => undefined);

  return {
    pid: child.pid!,
    lines,
    stderr: () => stderr,
    waitFor(predicate, timeoutMs = 10_000) {
      const found = lines.find(predicate);
      if (found) return Promise.resolve(found);
      if (exited) return Promise.reject(new Error(`router process ${child.pid} ${exited}\n${stderr}`));
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (line: RouterProcessLine) => {
            clearTimeout(timer);
            failures.delete(fail);
            resolve(line);
          },
        };
        const fail = (err: Error): void => {
          clearTimeout(timer);
          waiters.delete(waiter);
          failures.delete(fail);
          reject(err);
        };
        const timer = setTimeout(
          () =>
            fail(
              new Error(
                `router process ${child.pid}: no matching line within ${timeoutMs} ms; last lines:\n` +
                  lines
                    .slice(-5)
                    .map((l) => JSON.stringify(l))
                    .join('\n') +
                  `\nstderr:\n${stderr.slice(-2_000)}`,
              ),
            ),
          timeoutMs,
        );
        waiters.add(waiter);
        failures.add(fail);
      });
    },
    async stop(graceMs = 5_000) {
      if (exited) return;
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

async function main(argv: string[]): Promise<void> {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const flag = (name: string): string | undefined =>
    argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))?.split('=')[1] ?? undefined;
  const [databaseUrl, model] = positional;
  if (!databaseUrl || !model) {
    process.stderr.write(
      'usage: router-process.ts DATABASE_URL MODEL [--request=ID] [--poll=MS] [--no-listen]\n',
    );
    process.exit(2);
  }
  const requestId = flag('request') ?? DEFAULT_REQUEST_ID;
  const pollIntervalMs = flag('poll') !== undefined ? Number(flag('poll')) : undefined;
  const noListen = argv.includes('--no-listen');

  // Imported here so that the parent importing spawnRouterProcess loads none of this.
  const { createKnex } = await import('../../src/db/knex.js');
  const { createLogger } = await import('../../src/log.js');
  const { createRouter } = await import('../../src/routing/router.js');

  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', `router-process-${process.pid}`);
  const knex = noListen ? createKnex(databaseUrl, { max: 2 }) : undefined;
  const router = await createRouter({
    ...(knex ? { knex, databaseUrl: unreachableUrl(databaseUrl) } : { databaseUrl }),
    ...(pollIntervalMs !== undefined ? { pollIntervalMs } : {}),
    log,
  });

  const emit = (event: RouterProcessLine['event'], generation: number): void => {
    const at = performance.timeOrigin + performance.now();
    let decision: Pick<RouterProcessLine, 'serve' | 'via' | 'bucket' | 'shadow' | 'error'>;
    try {
      const d = router.route(model, requestId);
      decision = { serve: d.serve, via: d.via, bucket: d.bucket, shadow: d.shadow, error: null };
    } catch (err) {
      decision = { serve: null, via: null, bucket: null, shadow: [], error: (err as Error).message };
    }
    const line: RouterProcessLine = {
      event,
      pid: process.pid,
      model,
      generation,
      ...decision,
      listening: router.health().listening,
      at,
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };

  router.on('change', (entry) => {
    if (entry.model === model) emit('change', entry.generation);
  });
  emit('ready', router.entry(model)?.generation ?? 0);

  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    await router.close();
    await knex?.destroy();
    process.exit(0);
  };
  process.stdin.on('end', () => void shutdown());
  process.stdin.on('error', () => void shutdown());
  process.stdin.resume();
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

/** The same server on port 1, where nothing listens: connection attempts fail at once. */
function unreachableUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = '1';
  return url.toString();
}

if (process.argv[1] && path.resolve(process.argv[1]) === SCRIPT) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`router-process: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
