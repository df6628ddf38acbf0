import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ProcessJobResult {
  /** Every JSON line the program printed, in order. */
  events: Array<Record<string, unknown>>;
  stderrTail: string;
}

export class ProcessJobError extends Error {
  override name = 'ProcessJobError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

/**
 * Runs a job as a child process in its own process group (so `npx tsx …` and everything it starts can be
 * killed together), reporting each JSON line of stdout as it arrives. Cancelling through `signal` sends
 * SIGTERM to the group and SIGKILL 3 s later. Non-JSON stdout lines are ignored; stderr is kept (its tail
 * explains a failure).
 */
export function runProcessJob(opts: {
  command: string[];
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  timeoutMs?: number;
  onEvent?: (event: Record<string, unknown>) => void;
  onSpawn?: (pid: number) => void;
}): Promise<ProcessJobResult> {
  const [program, ...args] = opts.command;
  return new Promise((resolve, reject) => {
    const child = spawn(program!, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: Array<Record<string, unknown>> = [];
    let stderr = '';
    let killedFor: string | null = null;
    const killGroup = (why: string): void => {
      if (killedFor || child.exitCode !== null || child.pid === undefined) return;
      killedFor = why;
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        return;
      }
      setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 3_000).unref();
    };
    const onAbort = (): void => killGroup('cancelled');
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.timeoutMs
      ? setTimeout(() => killGroup(`timed out after ${opts.timeoutMs} ms`), opts.timeoutMs)
      : null;
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      try {
        const event = JSON.parse(line) as Record<string, unknown>;
        events.push(event);
        opts.onEvent?.(event);
      } catch {
        // A line that only looks like JSON is the program's business, not a protocol error.
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4_000);
    });
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      reject(new ProcessJobError(`could not start ${program}: ${err.message}`, null, stderr));
    });
    child.on('close', (code, sig) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const tail = stderr.trim().split('\n').slice(-10).join('\n');
      if (killedFor) reject(new ProcessJobError(`${program} ${killedFor}`, code, tail));
      else if (code !== 0)
        reject(
          new ProcessJobError(`${program} exited with ${code ?? sig}${tail ? `: ${tail}` : ''}`, code, tail),
        );
      else resolve({ events, stderrTail: tail });
    });
  });
}
