import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchChild } from './child-output.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `arena worker` in a child process, exactly as an operator runs it (`node --import tsx src/cli/main.ts
 * worker --task-queue Q`), so a test can SIGKILL it and a benchmark can read its memory. Not importing
 * vitest, so benchmarks can use it too.
 */
export interface WorkerProcess {
  readonly pid: number;
  /** Resolves once the worker has been created and is about to poll ("worker started" in its log). */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited, with its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal (default SIGKILL) and waits for the process to be gone. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (graceful: in-flight tasks finish), SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<void>;
  /** Resident set size now, in MiB (Linux /proc), or undefined when the process has gone. */
  rssMb(): number | undefined;
  /** The peak resident set size so far (VmHWM), in MiB. */
  peakRssMb(): number | undefined;
  /** The last lines the worker logged (stderr) and printed (stdout). */
  output(): string;
}

export interface WorkerProcessOptions {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  /** Rollup bucket width the worker's analyses assume (1 s for stages of seconds). */
  rollupBucketSeconds?: number;
  env?: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof'] to profile the worker (NODE_OPTIONS refuses those). */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function spawnWorkerProcess(options: WorkerProcessOptions): WorkerProcess {
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      '--import',
      'tsx',
      'src/cli/main.ts',
      'worker',
      '--task-queue',
      options.taskQueue,
    ],
    {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: options.databaseUrl,
        TEMPORAL_ADDRESS: options.temporalAddress,
        TEMPORAL_NAMESPACE: options.namespace,
        ARENA_ROLLUP_BUCKET_SECONDS: String(options.rollupBucketSeconds ?? 1),
        // "worker started" is logged at info; the SDK's own logger stays at WARN.
        LOG_LEVEL: 'info',
        CI: 'true',
        ...options.env,
      },
    },
  );
  const watched = watchChild(child, 20_000);
  const exited = watched.exited;

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `worker process ${child.pid} not ready within timeout:\n${watched.output().slice(-3_000)}`,
          ),
        ),
      options.readyTimeoutMs ?? 90_000,
    );
    const onData = (): void => {
      if (watched.output().includes('worker started')) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `worker process ${child.pid} exited (${signal ?? code}) before it was ready:\n${watched.output().slice(-3_000)}`,
        ),
      );
    });
  });
  // A caller that never awaits `ready` must not get an unhandled rejection when the worker is killed.
  ready.catch(() => undefined);

  return {
    pid: child.pid!,
    ready,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    rssMb: () => procStatusMb(child.pid!, 'VmRSS'),
    peakRssMb: () => procStatusMb(child.pid!, 'VmHWM'),
    output: () => watched.output(),
  };
}
