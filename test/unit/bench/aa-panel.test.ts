import { describe, expect, it } from 'vitest';
import { runPanel } from '../../../bench/aa-panel.js';
import {
  PANEL_DISTRIBUTIONS,
  bernoulli,
  binomial,
  emptySums,
  lognormal,
} from '../../../bench/aa-panel/distributions.js';
import { createRng } from '../../../src/stats/index.js';

describe('A/A panel samplers', () => {
  // 200,000 draws each (2,000,000 trials for a rare-event proportion, about 2,000 events); the 10%
  // tolerance covers the heaviest tails (Pareto α=1.5 has infinite variance).
  it.each(PANEL_DISTRIBUTIONS.map((d) => [d.name, d] as const))('%s has its mean', (_name, d) => {
    const rng = createRng(7);
    const sums = emptySums();
    const batches = d.counts ? 2000 : 200;
    for (let i = 0; i < batches; i++) d.add(rng, sums, 1000, 1);
    expect(sums.n).toBe(batches * 1000);
    expect(Math.abs(sums.sum / sums.n - d.mean) / d.mean).toBeLessThan(0.1);
  });

  it('scales every draw', () => {
    const a = emptySums();
    const b = emptySums();
    lognormal(1).add(createRng(3), a, 1000, 1);
    lognormal(1).add(createRng(3), b, 1000, 0.5);
    expect(b.sum).toBeCloseTo(a.sum * 0.5, 6);
    expect(b.sumSq).toBeCloseTo(a.sumSq * 0.25, 6);
  });

  it('counts Bernoulli successes as 0/1 values and the binomial stays in range', () => {
    const sums = emptySums();
    bernoulli(0.3).add(createRng(5), sums, 10_000, 1);
    expect(sums.sumSq).toBe(sums.sum);
    expect(Number.isInteger(sums.sum)).toBe(true);
    expect(sums.sum / sums.n).toBeCloseTo(0.3, 1);
    const rng = createRng(9);
    for (let i = 0; i < 1000; i++) {
      const k = binomial(rng, 20, 0.5);
      expect(k).toBeGreaterThanOrEqual(0);
      expect(k).toBeLessThanOrEqual(20);
    }
  });
});

describe('A/A panel', () => {
  const tiny = { rollouts: 20, looks: 5, perLook: [100], seed: 11 };

  it('returns rates in [0, 1] for every configuration and is deterministic for a seed', () => {
    const panel = runPanel(tiny);
    expect(panel.aa).toHaveLength(PANEL_DISTRIBUTIONS.length);
    expect(panel.power).toHaveLength(1);
    for (const { rates } of panel.aa) {
      for (const rate of Object.values(rates)) {
        expect(rate).toBeGreaterThanOrEqual(0);
        expect(rate).toBeLessThanOrEqual(1);
      }
    }
    const power = panel.power[0]!.figures;
    expect(power.passShare).toBeGreaterThanOrEqual(0);
    expect(power.passShare).toBeLessThanOrEqual(1);
    const again = runPanel(tiny);
    expect(again.aa.map((r) => r.rates)).toEqual(panel.aa.map((r) => r.rates));
    expect(again.power.map((r) => r.figures)).toEqual(panel.power.map((r) => r.figures));
  });
});
