import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { runCli } from '../support/cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('arena --version', () => {
  it("prints Arena's version and, with the stack up, the Temporal server's and PostgreSQL's", async () => {
    const stack = inject('stack');
    const r = await runCli(['--version', '--json'], {
      DATABASE_URL: stack.databaseUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
    });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ arena: pkg.version, node: process.version });
    expect(report.temporalServer).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.postgres).toMatch(/^\d+(\.\d+)?/);

    const text = await runCli(['-V'], { DATABASE_URL: stack.databaseUrl });
    expect(text.stdout).toContain(`arena ${pkg.version}`);
    expect(text.stdout).toMatch(/postgresql:\s+\d+/);
  });

  it('says what is not reachable instead of failing', async () => {
    const r = await runCli(['--version', '--json'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ arena: pkg.version, temporalServer: null, postgres: null });
  });

  it('leaves --json after a command to that command', async () => {
    const r = await runCli(['model', 'list', '--json'], { DATABASE_URL: inject('stack').databaseUrl });
    expect(r.code, r.stderr).toBe(0);
    expect(Array.isArray(JSON.parse(r.stdout))).toBe(true);
  });
});
