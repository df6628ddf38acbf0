import { describe, expect, it } from 'vitest';
import { createProgressBar } from '../../../src/cli/progress-bar.js';
import { createProgress } from '../../../src/stack/progress.js';

function fakeStream(tty: boolean): NodeJS.WriteStream & { text: () => string } {
  let out = '';
  const stream = {
    isTTY: tty,
    columns: 100,
    rows: 40,
    write(chunk: string) {
      out += chunk;
      return true;
    },
    on: () => stream,
    once: () => stream,
    off: () => stream,
    removeListener: () => stream,
    text: () => out,
  };
  return stream as unknown as NodeJS.WriteStream & { text: () => string };
}

describe('the CLI progress display (log-update)', () => {
  it('on a pipe, writes plain lines, the last one at stop', () => {
    const stream = fakeStream(false);
    const bar = createProgressBar('ingest', 200, stream, 60_000);
    bar.update(50, '10 lines');
    bar.update(100, '20 lines');
    bar.stop();
    expect(stream.text().trim().split('\n')).toEqual([
      `ingest [${'█'.repeat(8)}${'░'.repeat(22)}] 25% | 10 lines`,
      `ingest [${'█'.repeat(15)}${'░'.repeat(15)}] 50% | 20 lines`,
    ]);
  });

  it('on a terminal, redraws in place and ends with the final state', () => {
    const prev = process.env.CI;
    delete process.env.CI;
    try {
      const stream = fakeStream(true);
      const bar = createProgressBar('ingest', 10, stream);
      bar.update(10, 'done');
      bar.stop();
      expect(stream.text()).toContain(`ingest [${'█'.repeat(30)}] 100% | done`);
      const spin = createProgress(stream);
      spin.start('Building');
      spin.info('takes minutes');
      spin.succeed('Built');
      expect(stream.text()).toMatch(/ℹ takes minutes/);
      expect(stream.text()).toMatch(/✔ Built \(\d+s\)/);
    } finally {
      if (prev !== undefined) process.env.CI = prev;
    }
  });
});

describe('the stack progress on a pipe', () => {
  it('prints one line per interval for the current step only, however many steps came before', async () => {
    const stream = fakeStream(false);
    const progress = createProgress(stream, 20);
    progress.start('Downloading');
    progress.update('3 modules');
    progress.succeed('Downloaded');
    progress.start('Compiling');
    progress.update('1 of 2 packages compiled');
    await new Promise((r) => setTimeout(r, 70));
    progress.succeed('Compiled');
    progress.stop();
    const printed = stream.text();
    // Once the last step is over, nothing goes on printing (no timer of an earlier step left behind).
    await new Promise((r) => setTimeout(r, 70));
    expect(stream.text()).toBe(printed);
    const lines = printed.trim().split('\n');
    const ticks = lines.filter((l) => l.startsWith('… ') && l.includes('s '));
    expect(ticks.length).toBeGreaterThan(0);
    for (const t of ticks) expect(t).toMatch(/^… Compiling: \d+s 1 of 2 packages compiled$/);
  });
});
