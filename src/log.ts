import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs go to stderr so that `--json` output on stdout stays machine-readable.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'arena'): Logger {
  return pino({ name, level }, pino.destination({ fd: 2, sync: true }));
}
