import { describe, expect, it } from 'vitest';
import { mean, sampleVariance, sum } from 'simple-statistics';
import {
  SummaryAccumulator,
  combineStrata,
  createRng,
  mergeSummaries,
  minimumDetectableEffect,
  relativeLift,
  sampleSizePerGroup,
  stageDuration,
  summarize,
  summaryFromSums,
  welchTTest,
} from '../../../src/stats/index.js';
import { expectClose } from './helpers.js';

describe('Summary helpers', () => {
  const rng = createRng(7);
  const values = Array.from({ length: 1001 }, () => 1e6 + rng.normal() * 3);

  it('summarize is a stable one-pass mean and sample variance', () => {
    const s = summarize(values);
    // The reference is simple-statistics: a compensated sum for the mean, two passes for the variance.
    expect(s.n).toBe(1001);
    expectClose(s.mean, mean(values), 1e-14, 'mean');
    // A mean of 1e6 with spread 3 is where Σx² − (Σx)²/n would lose ~10 digits; Welford does not.
    expectClose(s.variance, sampleVariance(values), 1e-9, 'variance');
    // A summary of values knows their shape, even when there is none to speak of.
    expect(summarize([])).toEqual({ n: 0, mean: 0, variance: 0, skewness: 0 });
    expect(summarize([4])).toEqual({ n: 1, mean: 4, variance: 0, skewness: 0 });
  });

  it('mergeSummaries of the parts equals the summary of the whole', () => {
    const parts = [values.slice(0, 10), values.slice(10, 11), [], values.slice(11, 600), values.slice(600)];
    const merged = mergeSummaries(...parts.map((p) => summarize(p)));
    const whole = summarize(values);
    expect(merged.n).toBe(whole.n);
    expectClose(merged.mean, whole.mean, 1e-14, 'merged mean');
    expectClose(merged.variance, whole.variance, 1e-9, 'merged variance');
    expectClose(merged.skewness!, whole.skewness!, 1e-6, 'merged skewness');
    expect(mergeSummaries()).toEqual({ n: 0, mean: 0, variance: 0, skewness: 0 });
    // One part of unknown shape (a rollup from before sums of cubes) makes the whole unknown.
    const unknown = { ...summarize(parts[0]!) };
    delete unknown.skewness;
    expect(mergeSummaries(unknown, summarize(parts[3]!)).skewness).toBeUndefined();
  });

  it('skewness is g₁ = m₃/m₂^{3/2}, from values, sums or merged parts alike', () => {
    // scipy.stats.skew([1, 2, 3, 4, 10]) (bias=True) = 1.1384199576606167
    const xs = [1, 2, 3, 4, 10];
    expectClose(summarize(xs).skewness!, 1.1384199576606167, 1e-12, 'summarize');
    const cubes = sum(xs.map((x) => x ** 3));
    expectClose(summaryFromSums(5, 20, 130, cubes).skewness!, 1.1384199576606167, 1e-12, 'sums');
    expectClose(
      mergeSummaries(summarize([1, 10]), summarize([2, 3, 4])).skewness!,
      1.1384199576606167,
      1e-12,
      'merge',
    );
    expect(summarize(xs.map((x) => -x)).skewness).toBeCloseTo(-1.1384199576606167, 12);
    // An exponential sample's skewness is near its population value 2.
    const r = createRng(11);
    const exp = Array.from({ length: 200_000 }, () => -Math.log(1 - r.uniform()));
    expect(summarize(exp).skewness).toBeGreaterThan(1.9);
    expect(summarize(exp).skewness).toBeLessThan(2.1);
    // No spread, no shape; and rounding in the raw sums cannot exceed the bound a sample of n obeys.
    expect(summaryFromSums(4, 8, 16, 32).skewness).toBe(0);
    const big = values.map((v) => v * 1e3);
    const fromSums = summaryFromSums(
      big.length,
      sum(big),
      sum(big.map((v) => v * v)),
      sum(big.map((v) => v ** 3)),
    );
    expect(Math.abs(fromSums.skewness!)).toBeLessThanOrEqual((big.length - 2) / Math.sqrt(big.length - 1));
    expect(summaryFromSums(5, 20, 130).skewness).toBeUndefined();
  });

  it('summaryFromSums reproduces summarize and clamps rounding below 0', () => {
    const xs = [1, 2, 3, 4, 10];
    const s = summaryFromSums(5, 20, sum(xs.map((x) => x * x)), sum(xs.map((x) => x ** 3)));
    expect(s.n).toBe(5);
    expect(s.mean).toBe(4);
    expectClose(s.variance, summarize(xs).variance, 1e-14, 'variance');
    expectClose(s.skewness!, summarize(xs).skewness!, 1e-12, 'skewness');
    expect(summaryFromSums(3, 0.3, 0.03).variance).toBeGreaterThanOrEqual(0);
    expect(summaryFromSums(0, 0, 0)).toEqual({ n: 0, mean: 0, variance: 0 });
  });

  it('the accumulator gives the same summary as summarize', () => {
    const acc = new SummaryAccumulator();
    for (const v of values) acc.push(v);
    expect(acc.summary()).toEqual(summarize(values));
    expect(acc.n).toBe(values.length);
  });
});

describe('combineStrata (inverse-variance weights across stages)', () => {
  it('weights each stage by 1/se²', () => {
    const c = combineStrata([
      { estimate: 1, se: 1, n: 100 },
      { estimate: 4, se: 2, n: 25 },
    ]);
    expectClose(c.estimate, (1 * 1 + 4 * 0.25) / 1.25, 1e-15, 'estimate');
    expectClose(c.se, 1 / Math.sqrt(1.25), 1e-15, 'se');
    expect(c.n).toBe(125);
    expectClose(c.weights[0]!, 0.8, 1e-15, 'w0');
  });

  it('avoids the Simpson bias of pooling samples from stages with different splits', () => {
    // No true effect. Stage 1 (5% canary) runs in the morning at level 10, stage 2 (50%) in the evening at 12.
    const stage1 = {
      champion: { n: 9500, mean: 10, variance: 4 },
      challenger: { n: 500, mean: 10, variance: 4 },
    };
    const stage2 = {
      champion: { n: 5000, mean: 12, variance: 4 },
      challenger: { n: 5000, mean: 12, variance: 4 },
    };
    const pooledLift = relativeLift(
      mergeSummaries(stage1.champion, stage2.champion),
      mergeSummaries(stage1.challenger, stage2.challenger),
    );
    expect(pooledLift.lift).toBeGreaterThan(0.1); // pooling invents a >10% difference
    const strata = [stage1, stage2].map((s) => {
      const l = relativeLift(s.champion, s.challenger);
      return { estimate: l.lift, se: l.se, n: s.champion.n + s.challenger.n };
    });
    expect(combineStrata(strata).estimate).toBe(0);
  });
});

describe('sample size and stage duration', () => {
  it('sampleSizePerGroup and minimumDetectableEffect are inverse to each other', () => {
    const n = sampleSizePerGroup({ alpha: 0.05, power: 0.8, sigma: 7.5, delta: 0.3 });
    const mde = minimumDetectableEffect({
      alpha: 0.05,
      power: 0.8,
      sigma: 7.5,
      nChallenger: n,
      nChampion: n,
    });
    expect(mde).toBeLessThanOrEqual(0.3);
    expect(
      minimumDetectableEffect({ alpha: 0.05, power: 0.8, sigma: 7.5, nChallenger: n - 1, nChampion: n - 1 }),
    ).toBeGreaterThan(0.3);
  });

  it('a 50/50 split needs 2n in total; a 5% canary needs 1/(4·0.05·0.95) ≈ 5.26 times that', () => {
    const base = { alpha: 0.05, power: 0.8, sigma: 1, delta: 0.2, ratePerSecond: 10 };
    const even = stageDuration({ ...base, challengerShare: 0.5 });
    expect(even.perGroupEqualSplit).toBe(393);
    expect(even.fixedHorizon.total).toBe(786);
    expect(even.fixedHorizon.seconds).toBeCloseTo(78.6, 10);
    const canary = stageDuration({ ...base, challengerShare: 0.05 });
    expect(canary.fixedHorizon.total).toBe(Math.ceil(786 / (4 * 0.05 * 0.95)));
    expect(canary.fixedHorizon.challenger).toBeGreaterThanOrEqual(0.05 * canary.fixedHorizon.total);
  });

  it('the sequential requirement exceeds the fixed horizon and is the smallest N reaching the power', () => {
    const input = {
      alpha: 0.05,
      power: 0.8,
      sigma: 7.5,
      delta: 0.5,
      margin: 0.2,
      ratePerSecond: 50,
      challengerShare: 0.05,
      tuningN: 100_000,
    };
    const d = stageDuration(input);
    expect(d.perGroupEqualSplit).toBe(
      sampleSizePerGroup({ alpha: 0.05, power: 0.8, sigma: 7.5, delta: 0.3 }),
    );
    expect(d.sequential!.total).toBeGreaterThan(d.fixedHorizon.total);
    expect(d.sequential!.seconds).toBe(d.sequential!.total / 50);
    expect(() => stageDuration({ ...input, delta: 0.1 })).toThrow(/margin/);
  });
});

describe('seeded random numbers', () => {
  it('is reproducible and roughly standard normal', () => {
    const a = createRng(42);
    const b = createRng(42);
    const xs = Array.from({ length: 20000 }, () => a.normal());
    expect(Array.from({ length: 20000 }, () => b.normal())).toEqual(xs);
    expect(createRng(43).normal()).not.toBe(xs[0]);
    const s = summarize(xs);
    expect(Math.abs(s.mean)).toBeLessThan(0.03);
    expect(Math.abs(s.variance - 1)).toBeLessThan(0.05);
    // And a Welch test between two seeded streams behaves like an A/A comparison.
    expect(welchTTest(xs.slice(0, 10000), xs.slice(10000)).pValue).toBeGreaterThan(0.001);
  });
});
