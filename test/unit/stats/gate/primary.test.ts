import { describe, expect, it } from 'vitest';
import { independent, quantiles } from '../../../../src/stats/gate/evidence.js';
import { evaluatePrimary } from '../../../../src/stats/gate/primary.js';
import { sequentialRho } from '../../../../src/stats/sequential.js';
import { StatsInputError } from '../../../../src/stats/errors.js';

const analysis = { alpha: 0.05, minSamples: 1000, tuningN: 20000 };
const rho = sequentialRho(0.05, 20000);
const s = (mean: number, sd: number, n = 20000) => ({ n, mean, variance: sd * sd });
const policy = { name: 'abs_error', direction: 'lower' as const, minImprovement: 0.02 };

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
