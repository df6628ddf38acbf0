/**
 * Sample-ratio mismatch: Pearson's chi-square goodness of fit of the observed arm counts against the
 * intended split (scipy.stats.chisquare). A mismatch means assignment or logging is broken, so the
 * comparison itself cannot be trusted.
 */
import { InsufficientDataError, StatsInputError, requireCount } from './errors.js';
import { chiSquareSf } from './chi-square.js';

export interface SrmResult {
  chi2: number;
  df: number;
  pValue: number;
  /** Expected counts under the intended split. */
  expected: number[];
}

/** Conventional SRM alarm level (DESIGN.md §5): far below the analysis alpha, as it gates data validity. */
export const SRM_ALPHA = 0.001;

export function srmTest(observed: readonly number[], expectedWeights: readonly number[]): SrmResult {
  if (!Array.isArray(observed) || observed.length < 2) {
    throw new StatsInputError('observed', observed, 'needs counts for at least 2 arms');
  }
  if (!Array.isArray(expectedWeights) || expectedWeights.length !== observed.length) {
    throw new StatsInputError(
      'expectedWeights',
      expectedWeights,
      `needs ${observed.length} weights, one per arm`,
    );
  }
  observed.forEach((o, i) => requireCount(`observed[${i}]`, o));
  let wSum = 0;
  expectedWeights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || !(w > 0)) {
      throw new StatsInputError(`expectedWeights[${i}]`, w, 'must be a finite weight > 0');
    }
    wSum += w;
  });
  const total = observed.reduce((s, o) => s + o, 0);
  if (total < 1) throw new InsufficientDataError('observed (total)', total, 1);
  const expected = expectedWeights.map((w) => (total * w) / wSum);
  let chi2 = 0;
  observed.forEach((o, i) => {
    const e = expected[i]!;
    chi2 += ((o - e) * (o - e)) / e;
  });
  const df = observed.length - 1;
  return { chi2, df, pValue: chiSquareSf(chi2, df), expected };
}

/**
 * SRM over several periods with different intended splits (one per rollout stage): the per-stage
 * chi-squares are independent, so their sum is chi-square with the summed degrees of freedom.
 */
export function srmTestStrata(
  strata: ReadonlyArray<{ observed: readonly number[]; expectedWeights: readonly number[] }>,
): SrmResult & { strata: SrmResult[] } {
  if (!Array.isArray(strata) || strata.length === 0) {
    throw new StatsInputError('strata', strata, 'needs at least one period');
  }
  const parts = strata.map((s) => srmTest(s.observed, s.expectedWeights));
  const chi2 = parts.reduce((s, p) => s + p.chi2, 0);
  const df = parts.reduce((s, p) => s + p.df, 0);
  return {
    chi2,
    df,
    pValue: chiSquareSf(chi2, df),
    expected: parts.flatMap((p) => p.expected),
    strata: parts,
  };
}
