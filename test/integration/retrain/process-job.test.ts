import { describe, expect, it } from 'vitest';
import { ProcessJobError, runProcessJob } from '../../../src/training/process-job.js';

const node = (script: string): string[] => [process.execPath, '-e', script];

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function gone(pids: number[], ms = 6_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (pids.some(alive) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  return !pids.some(alive);
}

/** A job that starts a grandchild (as `npx tsx …` does) and then waits forever, telling both pids. */
const HANGS_WITH_GRANDCHILD = `
  if (process.env.STUBBORN) process.on('SIGTERM', () => {});
  const { spawn } = require('node:child_process');
  const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  console.log(JSON.stringify({ event: 'progress', pid: process.pid, grandchild: g.pid }));
  setInterval(() => {}, 1000);
`;

describe('process training jobs (real child processes)', () => {
  it('reports JSON progress lines as they come and ignores other output', async () => {
    const seen: unknown[] = [];
    const result = await runProcessJob({
      command: node(
        `console.log('warming up'); console.log(JSON.stringify({ step: 1 })); console.log('{not json'); console.log(JSON.stringify({ event: 'done', artifact: 'x' }));`,
      ),
      onEvent: (e) => seen.push(e),
    });
    expect(seen).toEqual([{ step: 1 }, { event: 'done', artifact: 'x' }]);
    expect(result.events).toEqual(seen);
  });

  it('fails with the exit code and the tail of stderr', async () => {
    const err = await runProcessJob({
      command: node(`for (let i = 0; i < 30; i++) console.error('line ' + i); process.exit(3);`),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessJobError);
    const e = err as ProcessJobError;
    expect(e.exitCode).toBe(3);
    expect(e.stderrTail.split('\n')).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 20}`));
    expect(e.message).toMatch(/exited with 3: line 20/);
  });

  it('fails when the program cannot be started', async () => {
    await expect(runProcessJob({ command: ['/nonexistent/trainer'] })).rejects.toThrow(
      /could not start \/nonexistent\/trainer/,
    );
  });

  for (const stubborn of [false, true])
    it(`cancelling kills the whole process group${stubborn ? ', with SIGKILL when SIGTERM is ignored' : ''}`, async () => {
      const abort = new AbortController();
      let pids: number[] = [];
      const started = Date.now();
      const job = runProcessJob({
        command: node(HANGS_WITH_GRANDCHILD),
        env: { ...process.env, ...(stubborn ? { STUBBORN: '1' } : {}) },
        signal: abort.signal,
        onEvent: (e) => {
          pids = [e.pid as number, e.grandchild as number];
          abort.abort();
        },
      });
      await expect(job).rejects.toThrow(/cancelled/);
      expect(pids).toHaveLength(2);
      expect(await gone(pids)).toBe(true);
      // SIGKILL follows SIGTERM after 3 s; a cooperative job ends at once.
      if (stubborn) expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
      else expect(Date.now() - started).toBeLessThan(2_900);
    });

  it('kills a job that outlives its timeout', async () => {
    await expect(
      runProcessJob({ command: node('setInterval(() => {}, 1000)'), timeoutMs: 300 }),
    ).rejects.toThrow(/timed out after 300 ms/);
  });
});
