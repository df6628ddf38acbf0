/**
 * Stratification across rollout stages. Each stage has a constant traffic split; comparing arms within
 * a stage and combining the stage estimates with inverse-variance weights keeps the comparison fair. Pooling
 * raw samples across stages does not: when the split moves from 5% to 50% while the metric drifts over the
 * day, the arms sample different parts of the day and pooling favours one of them (Simpson's paradox).
 */
import { StatsInputError, requireFinite, requireNonNegative } from './errors.js';

export interface StratumEstimate {
  /** The within-stage estimate (difference or relative lift, challenger vs champion). */
  estimate: number;
  se: number;
  /** Observations behind it (both arms), summed into the combined n. */
  n?: number;
}

export interface CombinedEstimate {
  estimate: number;
  se: number;
  n: number;
  /** Normalised weight of each stratum, in input order. */
  weights: number[];
}

/**
 * Inverse-variance (fixed-effect) combination: w_i = 1/se_i², estimate = Σw_i·e_i / Σw_i,
 * se = 1/√Σw_i. Strata with se = 0 are exact: if any exist, they alone determine the estimate (their mean)
 * and se = 0. An empty list is a StatsInputError.
 */
export function combineStrata(strata: readonly StratumEstimate[]): CombinedEstimate {
  if (!Array.isArray(strata) || strata.length === 0) {
    throw new StatsInputError('strata', strata, 'needs at least one stratum');
  }
  strata.forEach((s, i) => {
    requireFinite(`strata[${i}].estimate`, s.estimate);
    requireNonNegative(`strata[${i}].se`, s.se);
    if (s.n !== undefined) requireNonNegative(`strata[${i}].n`, s.n);
  });
  const n = strata.reduce((sum, s) => sum + (s.n ?? 0), 0);
  const exact = strata.map((s) => s.se === 0);
  if (exact.some(Boolean)) {
    const k = exact.filter(Boolean).length;
    const estimate = strata.reduce((sum, s, i) => sum + (exact[i] ? s.estimate : 0), 0) / k;
    return { estimate, se: 0, n, weights: exact.map((e) => (e ? 1 / k : 0)) };
  }
  const w = strata.map((s) => 1 / (s.se * s.se));
  const wSum = w.reduce((a, b) => a + b, 0);
  const estimate = strata.reduce((sum, s, i) => sum + w[i]! * s.estimate, 0) / wSum;
  return { estimate, se: 1 / Math.sqrt(wSum), n, weights: w.map((x) => x / wSum) };
}
