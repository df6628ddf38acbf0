import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

describe('npm run demo (arena demo --fast)', () => {
  it('promotes the better challenger and rolls back the faulty one', async () => {
    const r = await runCli(['demo', '--fast', '--json'], {}, 300_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      ok: boolean;
      results: Array<{ scenario: string; state: string; webUi: string | null }>;
    };
    expect(out.ok).toBe(true);
    expect(out.results.map((x) => [x.scenario, x.state])).toEqual([
      ['promote', 'promoted'],
      ['rollback', 'rolled_back'],
    ]);
    for (const x of out.results)
      if (x.webUi) expect(x.webUi).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\//);
  }, 300_000);
});
