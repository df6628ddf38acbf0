import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchChild } from './child-output.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `arena gateway` in a child process, exactly as an operator runs it (`node --import tsx src/cli/main.ts
 * gateway --port 0`), so a test can send it SIGTERM, take its database away, and time its exit. It listens on
 * a port the kernel picks; `ready` resolves with its base URL, read from the "gateway listening" log line.
 */
export interface GatewayProcess {
  readonly pid: number;
  /** Resolves with http://127.0.0.1:PORT once the gateway listens; rejects if it exits first. */
  readonly ready: Promise<string>;
  /** Resolves when the process has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<GatewayExit>;
  /** Whether the process has exited. */
  hasExited(): boolean;
  /** Sends a signal (default SIGTERM) without waiting. */
  signal(signal?: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after graceMs; resolves once the process is gone. Safe to call more than once. */
  stop(graceMs?: number): Promise<GatewayExit>;
  /** Everything the gateway wrote to stderr and stdout (the last 50,000 characters). */
  output(): string;
}

export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when the exit was seen. */
  at: number;
}

export interface GatewayProcessOptions {
  databaseUrl: string;
  temporalAddress: string;
  namespace?: string;
  /** The ARENA_GATEWAY_TOKENS entries. */
  tokens: Array<{ token: string; name: string; tenant: string; roles: string[] }>;
  /** More environment (ARENA_INGEST_RETRY_SECONDS, ARENA_GATEWAY_SHUTDOWN_SECONDS, …). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export function spawnGatewayProcess(options: GatewayProcessOptions): GatewayProcess {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--port', '0', '--host', '127.0.0.1'],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: options.databaseUrl,
        TEMPORAL_ADDRESS: options.temporalAddress,
        TEMPORAL_NAMESPACE: options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default',
        ARENA_GATEWAY_TOKENS: JSON.stringify(options.tokens),
        // "gateway listening" is logged at info.
        LOG_LEVEL: 'info',
        CI: 'true',
        ...options.env,
      },
    },
  );
  const watched = watchChild(child, 50_000);
  let exitSeen: GatewayExit | undefined;
  const exited = watched.exited.then((exit) => (exitSeen = exit));

  const ready = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(`gateway ${child.pid} not listening within timeout:\n${watched.output().slice(-3_000)}`),
        ),
      options.readyTimeoutMs ?? 60_000,
    );
    const onData = (): void => {
      for (const line of watched.output().split('\n')) {
        if (!line.includes('gateway listening')) continue;
        try {
          const { address } = JSON.parse(line) as { address?: string };
          if (!address) continue;
          clearTimeout(timer);
          child.stderr.off('data', onData);
          child.stdout.off('data', onData);
          resolve(address.replace('localhost', '127.0.0.1'));
          return;
        } catch {
          // a partial line: wait for the rest
        }
      }
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `gateway ${child.pid} exited (${signal ?? code}) before it listened:\n${watched.output().slice(-3_000)}`,
        ),
      );
    });
  });
  // A caller that never awaits `ready` must not get an unhandled rejection when the gateway is stopped.
  ready.catch(() => undefined);

  return {
    pid: child.pid!,
    ready,
    exited,
    hasExited: () => exitSeen !== undefined,
    signal(signal = 'SIGTERM') {
      if (!exitSeen) child.kill(signal);
    },
    async stop(graceMs = 15_000) {
      if (exitSeen) return exitSeen;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    output: () => watched.output(),
  };
}
