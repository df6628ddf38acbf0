import { describe, expect, it } from 'vitest';
import { independent, quantiles, stratified } from '../../../../src/stats/gate/evidence.js';
import type { Counts } from '../../../../src/stats/gate/types.js';
import { evaluatePrimary } from '../../../../src/stats/gate/primary.js';
import { sequentialRho } from '../../../../src/stats/sequential.js';
import { StatsInputError } from '../../../../src/stats/errors.js';

const analysis = { alpha: 0.05, minSamples: 1000, tuningN: 20000 };
const rho = sequentialRho(0.05, 20000);
const s = (mean: number, sd: number, n = 20000) => ({ n, mean, variance: sd * sd });
const policy = { name: 'abs_error', direction: 'lower' as const, minImprovement: 0.02 };
const stratifiedCounts = (pairs: Array<[Counts, Counts]>) =>
  stratified(pairs.map(([champion, challenger]) => ({ champion, challenger })));

describe('primary metric verdict', () => {
  it('without a rollback limit there is no rollback test; with one it follows the reason', () => {
    const evidence = independent(s(10, 5), s(9.5, 5));
    const plain = evaluatePrimary(policy, evidence, analysis, rho);
    expect(plain.status).toBe('pass');
    expect('rollback' in plain).toBe(false);
    expect(Object.keys(plain).at(-1)).toBe('reason');
    const withLimit = evaluatePrimary(
      { ...policy, rollbackRelativeDegradation: 0.05 },
      evidence,
      analysis,
      rho,
    );
    expect(Object.keys(withLimit).slice(-2)).toEqual(['reason', 'rollback']);
    expect(withLimit.rollback).toEqual({ limit: 0.05, pValue: 1, adjustedPValue: 1 });
  });

  it('reports the seed’s fixed-horizon two-proportion z-test beside the sequential test, for counts only', () => {
    // SciPy reference (test/fixtures/stats-vectors.json, two_proportion): x1 = 480 of 500 vs x2 = 470 of 500.
    const accuracy = { name: 'correct', direction: 'higher' as const, minImprovement: 0 };
    const v = evaluatePrimary(
      accuracy,
      independent({ successes: 470, n: 500 }, { successes: 480, n: 500 }),
      { ...analysis, minSamples: 100 },
      rho,
    );
    expect(v.twoProportionZ?.z).toBeCloseTo(1.4509525002200239, 10);
    expect(v.twoProportionZ?.pValue).toBeCloseTo(0.14679308730857077, 10);
    expect(v.twoProportionZ).toMatchObject({ challenger: 0.96, champion: 0.94, n: [500, 500] });
    // Pooled over strata (a 90/10 stage and a 50/50 one), as a fixed-horizon A/B test would count them.
    const strata = stratifiedCounts([
      [
        { successes: 450, n: 500 },
        { successes: 47, n: 50 },
      ],
      [
        { successes: 90, n: 100 },
        { successes: 93, n: 100 },
      ],
    ]);
    const pooled = evaluatePrimary(accuracy, strata, { ...analysis, minSamples: 100 }, rho).twoProportionZ!;
    expect(pooled.n).toEqual([150, 600]);
    expect(pooled.challenger).toBeCloseTo(140 / 150, 12);
    // Means have no such test.
    expect(
      evaluatePrimary(policy, independent(s(10, 5), s(9.5, 5)), analysis, rho).twoProportionZ,
    ).toBeUndefined();
  });

  it('fails when shown worse than the rollback degradation, and says so', () => {
    const v = evaluatePrimary(
      { ...policy, rollbackRelativeDegradation: 0.05 },
      independent(s(10, 5), s(11, 5)),
      analysis,
      rho,
    );
    expect(v.status).toBe('fail');
    expect(v.futile).toBe(true);
    expect(v.rollback!.pValue).toBeLessThan(0.05);
    expect(v.reason).toMatch(/Fail: worse than the 5% degradation/);
  });

  it('waits below minSamples, keeping the figures it has; refuses quantile evidence', () => {
    const v = evaluatePrimary(policy, independent(s(10, 5, 500), s(9, 5, 400)), analysis, rho);
    expect(v).toMatchObject({
      status: 'waiting',
      champion: { n: 500, value: 10 },
      challenger: { n: 400, value: 9 },
    });
    expect(() =>
      evaluatePrimary(policy, quantiles(0.5, { n: 1, value: 1 }, { n: 1, value: 1 }), analysis, rho),
    ).toThrow(StatsInputError);
  });
});
