/**
 * Chi-square distribution via the regularized incomplete gamma function (special.ts explains why it is
 * hand-written). Used by the sample-ratio-mismatch test, whose p-values of interest are tiny (< 0.001),
 * so the upper tail is computed directly rather than as 1 − CDF.
 */
import { StatsInputError } from './errors.js';
import { incompleteGamma } from './special.js';

function check(x: number, df: number): void {
  if (typeof df !== 'number' || !Number.isFinite(df) || !(df > 0)) {
    throw new StatsInputError('df', df, 'degrees of freedom must be a finite number > 0');
  }
  if (typeof x !== 'number' || Number.isNaN(x)) throw new StatsInputError('x', x, 'must be a number');
}

/** P(X ≤ x) for X ~ χ²(df). */
export function chiSquareCdf(x: number, df: number): number {
  check(x, df);
  return incompleteGamma(df / 2, Math.max(0, x) / 2).lower;
}

/** P(X > x) for X ~ χ²(df), accurate far into the upper tail. */
export function chiSquareSf(x: number, df: number): number {
  check(x, df);
  return incompleteGamma(df / 2, Math.max(0, x) / 2).upper;
}
