/** Paired t-test (scipy.stats.ttest_rel): shadow mode compares two versions on the same requests. */
import { InsufficientDataError, StatsInputError, requireFiniteArray } from './errors.js';
import { studentTQuantile } from './student-t.js';
import { toSummary, type Summary } from './summary.js';
import { checkAlternative, checkConfidence, tPValue, type Alternative } from './welch.js';

export interface PairedResult {
  t: number;
  df: number;
  pValue: number;
  /** Mean of the differences a − b. */
  diff: number;
  se: number;
  ci: [number, number];
}

export interface PairedOptions {
  alternative?: Alternative;
  confidence?: number;
}

/**
 * Paired t-test of a − b, element by element. Arrays must have equal length ≥ 2. Identical differences
 * (zero spread) give t = 0, p = 1 when they are all 0 and t = ±Infinity, p = 0 otherwise.
 */
export function pairedTTest(
  a: readonly number[],
  b: readonly number[],
  options: PairedOptions = {},
): PairedResult {
  requireFiniteArray('a', a);
  requireFiniteArray('b', b);
  if (a.length !== b.length) {
    throw new StatsInputError('b.length', b.length, `must equal a.length (${a.length}) for a paired test`);
  }
  if (a.length < 2) throw new InsufficientDataError('a.length', a.length, 2);
  const d = a.map((x, i) => x - b[i]!);
  return pairedDifferenceTest(toSummary('a − b', d), options);
}

/** The paired test from a summary of the differences (what the paired rollups hold). */
export function pairedDifferenceTest(differences: Summary, options: PairedOptions = {}): PairedResult {
  const alternative = checkAlternative(options.alternative ?? 'two-sided');
  const confidence = checkConfidence(options.confidence ?? 0.95);
  const d = toSummary('differences', differences, 2);
  const df = d.n - 1;
  const se = Math.sqrt(d.variance / d.n);
  const diff = d.mean;
  if (se === 0) {
    const t = diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
    return { t, df, pValue: tPValue(t, df, alternative), diff, se: 0, ci: [diff, diff] };
  }
  const t = diff / se;
  const q = studentTQuantile(1 - (1 - confidence) / 2, df);
  return { t, df, pValue: tPValue(t, df, alternative), diff, se, ci: [diff - q * se, diff + q * se] };
}
