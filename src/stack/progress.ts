import { createLogUpdate } from 'log-update';

/** Progress of a long step (the first Temporal CLI build takes minutes), always on stderr. */
export interface Progress {
  start(text: string): void;
  update(detail: string): void;
  succeed(text: string): void;
  info(text: string): void;
  stop(): void;
}

/**
 * A spinner on a terminal; on a pipe or in CI, a plain line every `intervalMs` with the elapsed time and
 * the latest detail, so a CI log shows the build is alive without thousands of lines.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr, intervalMs = 15_000): Progress {
  if (stream.isTTY && !process.env.CI) return spinnerProgress(stream);
  return lineProgress(stream, intervalMs);
}

// log-update is the one terminal library of the CLI (it rewrites a block in place: this spinner, the
// ingest progress bar, the rollout live view); the spinner's frames are all that is drawn here.
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function spinnerProgress(stream: NodeJS.WriteStream): Progress {
  const render = createLogUpdate(stream, { showCursor: false });
  let timer: NodeJS.Timeout | undefined;
  let title = '';
  let line = '';
  let frame = 0;
  let startedAt = 0;
  const draw = (): void => render(`${FRAMES[frame++ % FRAMES.length]} ${line}`);
  const halt = (): void => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return {
    start(text) {
      halt();
      title = text;
      line = text;
      startedAt = Date.now();
      timer = setInterval(draw, 80);
      timer.unref();
      draw();
    },
    update(detail) {
      if (!timer) return;
      const secs = Math.round((Date.now() - startedAt) / 1000);
      line = `${title} — ${secs}s — ${detail.slice(0, Math.max(20, (stream.columns ?? 100) - title.length - 20))}`;
    },
    succeed(text) {
      halt();
      render(`✔ ${text} (${Math.round((Date.now() - startedAt) / 1000)}s)`);
      render.done();
    },
    info(text) {
      // Printed above the spinner, which goes on below it.
      render.clear();
      stream.write(`ℹ ${text}\n`);
      if (timer) draw();
    },
    stop() {
      if (!timer) return;
      halt();
      render.clear();
    },
  };
}

function lineProgress(stream: NodeJS.WriteStream, intervalMs: number): Progress {
  let timer: NodeJS.Timeout | undefined;
  let title = '';
  let latest = '';
  let startedAt = 0;
  const elapsed = (): number => Math.round((Date.now() - startedAt) / 1000);
  return {
    start(text) {
      // One step at a time: a step started before the last one stopped replaces it (and its timer).
      if (timer) clearInterval(timer);
      title = text;
      latest = '';
      startedAt = Date.now();
      stream.write(`… ${text}\n`);
      timer = setInterval(() => stream.write(`… ${title}: ${elapsed()}s ${latest}\n`), intervalMs);
      timer.unref();
    },
    update(detail) {
      latest = detail;
    },
    succeed(text) {
      if (timer) clearInterval(timer);
      timer = undefined;
      stream.write(`✔ ${text} (${elapsed()}s)\n`);
    },
    info(text) {
      stream.write(`${text}\n`);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/** For --json callers and tests that want silence. */
export const silentProgress: Progress = {
  start() {},
  update() {},
  succeed() {},
  info() {},
  stop() {},
};
