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

  it.each(PANEL_DISTRIBUTIONS.filter((d) => !d.counts).map((d) => [d.name, d] as const))(
    '%s keeps the sums of powers of the very values it draws',
    (_name, d) => {
      // One draw into empty sums: they hold that value, its square and its cube.
      const rng = createRng(13);
      for (let i = 0; i < 200; i++) {
        const sums = emptySums();
        d.add(rng, sums, 1, 1);
        const x = sums.sum;
        expect(sums.sumSq).toBeCloseTo(x * x, 9);
        expect(Math.abs(sums.sumCubes - x ** 3)).toBeLessThanOrEqual(1e-12 * Math.max(1, x ** 3));
      }
    },
  );

  it('scales every draw', () => {
    const a = emptySums();
    const b = emptySums();
    lognormal(1).add(createRng(3), a, 1000, 1);
    lognormal(1).add(createRng(3), b, 1000, 0.5);
    expect(b.sum).toBeCloseTo(a.sum * 0.5, 6);
    expect(b.sumSq).toBeCloseTo(a.sumSq * 0.25, 6);
  });

  it('caps every scaled draw at the cap, and knows the lognormal quantile', () => {
    const d = lognormal(2);
    const cap = d.quantile!(0.999);
    expect(cap).toBeCloseTo(Math.exp(2 * 3.090232306167813), 6);
    const sums = emptySums();
    d.add(createRng(4), sums, 100_000, 1, cap);
    // About 0.1% of draws sit at the cap; none above it.
    expect(sums.sumCubes).toBeLessThanOrEqual(100_000 * cap ** 3);
    const uncapped = emptySums();
    d.add(createRng(4), uncapped, 100_000, 1);
    expect(sums.sum).toBeLessThan(uncapped.sum);
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
  const tiny = { rollouts: 20, looks: 5, perLook: [100], powerPerLook: [100], seed: 11 };

  it('returns rates in [0, 1] for every configuration and is deterministic for a seed', () => {
    const panel = runPanel(tiny);
    // Every distribution, then lognormal σ=2 capped at its p99.9; power uncapped and capped.
    expect(panel.aa).toHaveLength(PANEL_DISTRIBUTIONS.length + 1);
    expect(panel.aa.at(-1)!.config.cap?.quantile).toBe(0.999);
    expect(panel.power).toHaveLength(2);
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
