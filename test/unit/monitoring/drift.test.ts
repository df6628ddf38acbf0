import { describe, expect, it } from 'vitest';
import { evaluateDrift } from '../../../src/monitoring/drift.js';
import { parseMonitoringPolicy } from '../../../src/monitoring/policy.js';
import { ksTwoSample, psi } from '../../../src/stats/index.js';

const OPTS = { psiThreshold: 0.25, ksAlpha: 0.01, minSamples: 50 };
const grid = (n: number, shift = 0, scale = 1): number[] =>
  Array.from({ length: n }, (_, i) => shift + scale * ((i + 0.5) / n) * 10);

describe('drift decision', () => {
  it('uses PSI for the verdict and reports KS beside it, with the same numbers as src/stats', () => {
    const ref = grid(400);
    const same = grid(300);
    const moved = grid(300, 4);
    const v = evaluateDrift({ x: ref, y: ref }, { x: same, y: moved }, OPTS);
    const [x, y] = v.features;
    expect(x).toMatchObject({
      feature: 'x',
      drifted: false,
      psi: psi(ref, same),
      ks: ksTwoSample(ref, same),
    });
    expect(y).toMatchObject({ feature: 'y', drifted: true, psi: psi(ref, moved) });
    expect(y!.psi).toBeGreaterThan(0.25);
    expect(v.drifted).toBe(true);
    expect(v.summary).toMatch(/^drift in y \(PSI \d/);
  });

  it('does not call a threshold-sized move drift below the threshold, and skips thin data instead of guessing', () => {
    const ref = grid(400);
    const v = evaluateDrift({ a: ref, b: ref, c: [1, 2] }, { a: grid(300, 0.2), b: grid(20, 5) }, OPTS);
    expect(v.features.map((f) => [f.feature, f.drifted])).toEqual([['a', false]]);
    expect(v.skipped).toEqual([
      { feature: 'b', reason: '20 recent values, fewer than 50' },
      { feature: 'c', reason: 'reference has 2 values' },
    ]);
    expect(v.drifted).toBe(false);
  });

  it('without drift, the summary names the largest PSI of the features checked', () => {
    const ref = grid(400);
    const v = evaluateDrift({ a: ref, b: ref }, { a: grid(300, 0.1), b: grid(300, 0.3) }, OPTS);
    expect(v.drifted).toBe(false);
    const [a, b] = v.features;
    expect(b!.psi).toBeGreaterThan(a!.psi);
    expect(v.summary).toBe(`no drift: largest PSI ${b!.psi.toFixed(3)} (2 checked)`);
  });

  it('monitoring policy defaults and errors', () => {
    expect(parseMonitoringPolicy(undefined)).toMatchObject({
      drift: { psiThreshold: 0.25, ksAlpha: 0.01, recentWindow: 86_400_000, retrain: true },
      performance: { accuracyFloor: 0.92, window: 604_800_000, minSamples: 200, retrain: true },
      schedules: {
        driftCheck: { every: 3_600_000 },
        backtest: { every: 86_400_000 },
        backtestFull: { every: 604_800_000 },
        retrain: { every: 604_800_000 },
        report: { every: 604_800_000 },
      },
    });
    expect(() => parseMonitoringPolicy({ drift: { recentWindow: 'a day' } }, 'm')).toThrow(
      /m\.drift\.recentWindow="a day"/,
    );
  });
});
