import { createLogUpdate } from 'log-update';

export interface ProgressBar {
  update(done: number, detail: string): void;
  stop(): void;
}

const WIDTH = 30;

/**
 * A one-line progress bar for bulk commands (`arena ingest`), drawn with log-update like the rest of the
 * CLI's live output: redrawn in place at most ten times a second on a terminal; on a pipe or in CI, one
 * plain line every `lineEveryMs`, so a log shows progress without thousands of lines.
 */
export function createProgressBar(
  label: string,
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
  lineEveryMs = 5_000,
): ProgressBar {
  const tty = Boolean(stream.isTTY) && !process.env.CI;
  const render = tty ? createLogUpdate(stream) : undefined;
  let last = 0;
  let latest = '';
  const text = (done: number, detail: string): string => {
    const share = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(share * WIDTH);
    return `${label} [${'█'.repeat(filled)}${'░'.repeat(WIDTH - filled)}] ${Math.round(share * 100)}% | ${detail}`;
  };
  return {
    update(done, detail) {
      latest = text(done, detail);
      const now = Date.now();
      if (now - last < (tty ? 100 : lineEveryMs)) return;
      last = now;
      if (render) render(latest);
      else stream.write(`${latest}\n`);
    },
    stop() {
      if (render) {
        if (latest) render(latest);
        render.done();
      } else if (latest) stream.write(`${latest}\n`);
    },
  };
}
