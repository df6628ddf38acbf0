import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

interface FlightsDemoOutput {
  ok: boolean;
  seconds: number;
  result: {
    state: string;
    decision: string | null;
    flights: number;
    accuracy: { champion: number; challenger: number };
    worse: string[];
    excluded: string[];
    worseAccuracy: Record<string, { champion: number; challenger: number }>;
    report: string | null;
  } | null;
}

/**
 * `npm run demo -- --example flights`: a million real flights replayed through the router and the recorder,
 * the per-segment check finding the airports where the more accurate challenger is worse, and a partial
 * adoption leaving them on the champion.
 */
describe('npm run demo -- --example flights (a classifier with per-segment verdicts)', () => {
  let out: FlightsDemoOutput;
  beforeAll(async () => {
    const r = await runCli(['demo', '--example', 'flights', '--fast', '--json'], {}, 420_000);
    expect(r.code, r.stderr).toBe(0);
    out = JSON.parse(r.stdout) as FlightsDemoOutput;
  }, 420_000);

  it('replays over a million flights and promotes the challenger everywhere but the airports found worse', () => {
    const r = out.result!;
    expect(out.ok).toBe(true);
    expect(r.flights).toBeGreaterThanOrEqual(1_000_000);
    expect(r.accuracy.challenger).toBeGreaterThan(r.accuracy.champion);
    expect(r.state).toBe('promoted');
    expect(r.worse.length).toBeGreaterThan(0);
    expect(r.worse).not.toContain('(other)');
    expect([...r.excluded].sort()).toEqual([...r.worse].sort());
    expect(r.decision).toMatch(new RegExp(`partial adoption: ${r.worse.join(', ')} stay on 1\\.0\\.0`));
    // What the gate found worse during the rollout is worse over the whole replay, by both versions' real
    // probabilities (computed offline, apart from the gate).
    for (const origin of r.worse)
      expect(r.worseAccuracy[origin]!.challenger, origin).toBeLessThan(r.worseAccuracy[origin]!.champion);
  });

  it('draws the per-segment forest plot in the report, the worse airports marked', async () => {
    const html = await readFile(out.result!.report!, 'utf8');
    expect(html).toContain('<h2>Per-segment check: correct by segment</h2>');
    for (const airport of out.result!.worse)
      expect(html).toMatch(new RegExp(`>${airport}</text><line [^>]*stroke="#b3261e"`));
  });
});
