/** Welch's unequal-variance t-test (scipy.stats.ttest_ind(equal_var=False)) from arrays or summaries. */
import { StatsInputError } from './errors.js';
import { studentTQuantile, studentTTails } from './student-t.js';
import { toSummary, type Sample } from './summary.js';

export type Alternative = 'two-sided' | 'less' | 'greater';

export interface WelchOptions {
  /** The alternative hypothesis about mean(a) − mean(b). Default two-sided. */
  alternative?: Alternative;
  /** Coverage of `ci`, default 0.95. The interval is always two-sided, whatever `alternative` is. */
  confidence?: number;
}

export interface WelchResult {
  t: number;
  df: number;
  pValue: number;
  /** mean(a) − mean(b). */
  diff: number;
  se: number;
  ci: [number, number];
}

/**
 * p-value of a t statistic for the given alternative. ±Infinity (a difference with zero standard error)
 * gives 0 or 1; the two-sided value is 2·P(T > |t|) computed on the small tail.
 */
export function tPValue(t: number, df: number, alternative: Alternative): number {
  if (alternative === 'less') return studentTTails(t, df).lower;
  if (alternative === 'greater') return studentTTails(t, df).upper;
  return Math.min(1, 2 * studentTTails(-Math.abs(t), df).lower);
}

export function checkAlternative(alternative: unknown): Alternative {
  if (alternative === 'two-sided' || alternative === 'less' || alternative === 'greater') return alternative;
  throw new StatsInputError('alternative', alternative, "must be 'two-sided', 'less' or 'greater'");
}

export function checkConfidence(confidence: number): number {
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    throw new StatsInputError('confidence', confidence, 'must lie strictly between 0 and 1');
  }
  return confidence;
}

/**
 * Welch's t-test of mean(a) − mean(b). Each arm needs n ≥ 2 (InsufficientDataError otherwise).
 * Zero standard error (both arms constant): equal means give t = 0, p = 1 (two-sided); different means give
 * t = ±Infinity, p = 0 — a constant difference is certain — with df = n₁ + n₂ − 2 and ci = [diff, diff].
 */
export function welchTTest(a: Sample, b: Sample, options: WelchOptions = {}): WelchResult {
  const alternative = checkAlternative(options.alternative ?? 'two-sided');
  const confidence = checkConfidence(options.confidence ?? 0.95);
  const s1 = toSummary('a', a, 2);
  const s2 = toSummary('b', b, 2);
  const v1 = s1.variance / s1.n;
  const v2 = s2.variance / s2.n;
  const se = Math.sqrt(v1 + v2);
  const diff = s1.mean - s2.mean;
  if (se === 0) {
    const t = diff === 0 ? 0 : diff > 0 ? Infinity : -Infinity;
    const df = s1.n + s2.n - 2;
    return { t, df, pValue: tPValue(t, df, alternative), diff, se: 0, ci: [diff, diff] };
  }
  const df = (v1 + v2) ** 2 / ((v1 * v1) / (s1.n - 1) + (v2 * v2) / (s2.n - 1));
  const t = diff / se;
  const q = studentTQuantile(1 - (1 - confidence) / 2, df);
  return { t, df, pValue: tPValue(t, df, alternative), diff, se, ci: [diff - q * se, diff + q * se] };
}
