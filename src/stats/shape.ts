/**
 * How skewed a metric is, and how many observations per arm its mean needs before the normal approximation
 * behind every confidence sequence (and every Welch-type test) can be trusted. docs/statistics.md,
 * "Skewness-aware sample floor", explains the rule and why it is applied per arm.
 */
import { StatsInputError } from './errors.js';

/**
 * Kohavi et al.'s rule of thumb ("Seven rules of thumb for web site experimenters", KDD 2014, after Boos &
 * Hughes-Oliver 2000): a sample mean is close enough to normal for a two-sided 95% test, each tail off by at
 * most 10% of its nominal size, once n > 355·s², s the skewness of one observation.
 */
export const KOHAVI_FACTOR = 355;

/** Skewness of one Bernoulli(p) observation; 0 at p ∈ {0, 1}, where there is no spread at all. */
export function bernoulliSkewness(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new StatsInputError('p', p, 'must lie in [0, 1]');
  if (p === 0 || p === 1) return 0;
  return (1 - 2 * p) / Math.sqrt(p * (1 - p));
}

/** Observations per arm the mean needs for skewness `s`: ⌈factor·s²⌉ (0 when the factor is 0: floor off). */
export function skewnessFloor(skewness: number, factor = KOHAVI_FACTOR): number {
  if (!Number.isFinite(skewness)) throw new StatsInputError('skewness', skewness, 'must be finite');
  if (!(factor >= 0) || !Number.isFinite(factor))
    throw new StatsInputError('factor', factor, 'must be a finite number ≥ 0');
  return Math.ceil(factor * skewness * skewness);
}
