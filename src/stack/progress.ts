import ora, { type Ora } from 'ora';

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

function spinnerProgress(stream: NodeJS.WriteStream): Progress {
  let spinner: Ora | undefined;
  let title = '';
  let startedAt = 0;
  return {
    start(text) {
      title = text;
      startedAt = Date.now();
      spinner = ora({ text, stream }).start();
    },
    update(detail) {
      if (!spinner) return;
      const secs = Math.round((Date.now() - startedAt) / 1000);
      spinner.text = `${title} — ${secs}s — ${detail.slice(0, Math.max(20, (stream.columns ?? 100) - title.length - 20))}`;
    },
    succeed(text) {
      spinner?.succeed(`${text} (${Math.round((Date.now() - startedAt) / 1000)}s)`);
      spinner = undefined;
    },
    info(text) {
      if (spinner) spinner.info(text);
      else stream.write(`${text}\n`);
    },
    stop() {
      spinner?.stop();
      spinner = undefined;
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
      title = text;
      startedAt = Date.now();
      stream.write(`… ${text}\n`);
      timer = setInterval(() => stream.write(`… ${title}: ${elapsed()}s ${latest}\n`), intervalMs);
      timer.unref();
    },
    update(detail) {
      latest = detail;
    },
    succeed(text) {
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
