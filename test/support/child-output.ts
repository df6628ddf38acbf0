import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * What every long-running `arena` child of a test needs: its latest output kept (to wait for a log line and
 * to show in a failure), a kill if the test process exits first, and a promise of its exit.
 */
export interface WatchedChild {
  /** The last `limit` characters the child wrote to stdout and stderr. */
  output(): string;
  /** Resolves when the child exits, with its code or signal and when it was seen. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

export function watchChild(child: ChildProcessWithoutNullStreams, limit: number): WatchedChild {
  let out = '';
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-limit);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.stdin.on('error', () => undefined);
  // A child must never outlive the test or benchmark that started it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) => {
      child.once('exit', (code, signal) => {
        process.off('exit', killOnExit);
        resolve({ code, signal, at: Date.now() });
      });
    },
  );
  return { output: () => out, exited };
}
