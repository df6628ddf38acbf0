/** Pooled two-proportion z-test (error rates, accuracy) from counts. */
import { InsufficientDataError, StatsInputError, requireCount } from './errors.js';
import { normalTails } from './normal.js';

export interface TwoProportionResult {
  z: number;
  /** Two-sided p from the normal distribution. */
  pValue: number;
  p1: number;
  p2: number;
  /** p1 − p2. */
  diff: number;
  /** Pooled standard error of p1 − p2 under H₀: p1 = p2. */
  se: number;
}

/**
 * H₀: the two success rates are equal. When the pooled rate is 0 or 1 (no successes or no failures in
 * either arm) the rates are necessarily equal: z = 0, p = 1.
 */
export function twoProportionZTest(x1: number, n1: number, x2: number, n2: number): TwoProportionResult {
  requireCount('x1', x1);
  requireCount('n1', n1);
  requireCount('x2', x2);
  requireCount('n2', n2);
  if (n1 < 1) throw new InsufficientDataError('n1', n1, 1);
  if (n2 < 1) throw new InsufficientDataError('n2', n2, 1);
  if (x1 > n1) throw new StatsInputError('x1', x1, `cannot exceed n1 (${n1})`);
  if (x2 > n2) throw new StatsInputError('x2', x2, `cannot exceed n2 (${n2})`);
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const diff = p1 - p2;
  if (se === 0) return { z: 0, pValue: 1, p1, p2, diff, se };
  const z = diff / se;
  return { z, pValue: Math.min(1, 2 * normalTails(-Math.abs(z)).lower), p1, p2, diff, se };
}
