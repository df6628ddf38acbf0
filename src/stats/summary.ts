/**
 * Sufficient statistics of one arm. Analysis reads rollups (count, sum, sum of squares), so every test
 * that can run on a Summary does, and its cost does not grow with traffic.
 */
import { InsufficientDataError, StatsInputError, requireFiniteArray } from './errors.js';

/** `{ n, mean, variance }` with the sample (n − 1) variance; variance is 0 when n < 2. */
export interface Summary {
  n: number;
  mean: number;
  variance: number;
}

/** Raw observations or their summary; every two-sample function accepts either. */
export type Sample = readonly number[] | Summary;

export const EMPTY_SUMMARY: Summary = Object.freeze({ n: 0, mean: 0, variance: 0 });

/** Welford's one-pass algorithm: no catastrophic cancellation even when the mean dwarfs the spread. */
export function summarize(values: readonly number[], field = 'values'): Summary {
  requireFiniteArray(field, values);
  const acc = new SummaryAccumulator();
  for (const v of values) acc.push(v);
  return acc.summary();
}

/**
 * From count, sum and sum of squares (what rollups store). The subtraction loses digits only when the
 * mean is huge relative to the spread; clamped at 0 against rounding.
 */
export function summaryFromSums(n: number, sum: number, sumSq: number): Summary {
  if (!(n >= 0) || !Number.isFinite(n)) throw new StatsInputError('n', n, 'must be a finite count ≥ 0');
  if (!Number.isFinite(sum)) throw new StatsInputError('sum', sum, 'must be finite');
  if (!Number.isFinite(sumSq)) throw new StatsInputError('sumSq', sumSq, 'must be finite');
  if (n === 0) return { ...EMPTY_SUMMARY };
  const mean = sum / n;
  const variance = n > 1 ? Math.max(0, (sumSq - sum * mean) / (n - 1)) : 0;
  return { n, mean, variance };
}

/** Combines summaries of disjoint samples exactly (Chan et al.'s pairwise update). */
export function mergeSummaries(...parts: readonly Summary[]): Summary {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  parts.forEach((p, i) => {
    validateSummary(`parts[${i}]`, p);
    if (p.n === 0) return;
    const total = n + p.n;
    const delta = p.mean - mean;
    mean += (delta * p.n) / total;
    m2 += (p.n > 1 ? p.variance * (p.n - 1) : 0) + (delta * delta * n * p.n) / total;
    n = total;
  });
  return { n, mean, variance: n > 1 ? m2 / (n - 1) : 0 };
}

/** Adds observations one at a time (used by simulations and streaming callers). */
export class SummaryAccumulator {
  private count = 0;
  private m = 0;
  private m2 = 0;

  push(x: number): void {
    this.count += 1;
    const delta = x - this.m;
    this.m += delta / this.count;
    this.m2 += delta * (x - this.m);
  }

  get n(): number {
    return this.count;
  }

  summary(): Summary {
    return { n: this.count, mean: this.m, variance: this.count > 1 ? this.m2 / (this.count - 1) : 0 };
  }
}

/** Throws a StatsInputError naming the field unless `s` is a usable summary with at least `minN` values. */
export function validateSummary(field: string, s: Summary, minN = 0): Summary {
  if (s === null || typeof s !== 'object')
    throw new StatsInputError(field, s, 'must be { n, mean, variance }');
  if (typeof s.n !== 'number' || !Number.isFinite(s.n) || s.n < 0) {
    throw new StatsInputError(`${field}.n`, s.n, 'must be a finite count ≥ 0');
  }
  if (typeof s.mean !== 'number' || !Number.isFinite(s.mean)) {
    throw new StatsInputError(`${field}.mean`, s.mean, 'must be a finite number');
  }
  if (typeof s.variance !== 'number' || !Number.isFinite(s.variance) || s.variance < 0) {
    throw new StatsInputError(`${field}.variance`, s.variance, 'must be a finite number ≥ 0');
  }
  if (s.n < minN) throw new InsufficientDataError(`${field}.n`, s.n, minN);
  return s;
}

/** Arrays are validated and summarised; summaries are validated. */
export function toSummary(field: string, sample: Sample, minN = 0): Summary {
  const s = Array.isArray(sample) ? summarize(sample as readonly number[], field) : (sample as Summary);
  return validateSummary(field, s, minN);
}
