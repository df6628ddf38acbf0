/**
 * Sufficient statistics of one arm. Analysis reads rollups (count, sum, sum of squares), so every test
 * that can run on a Summary does, and its cost does not grow with traffic.
 */
import { InsufficientDataError, StatsInputError, requireFiniteArray } from './errors.js';

/**
 * `{ n, mean, variance }` with the sample (n − 1) variance; variance is 0 when n < 2. `skewness`, when
 * known, is the moment estimate g₁ = m₃ / m₂^{3/2} (population-style central moments); absent means the
 * shape is unknown (rollups written before sums of cubes were kept), never "symmetric".
 */
export interface Summary {
  n: number;
  mean: number;
  variance: number;
  skewness?: number | undefined;
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
export function summaryFromSums(n: number, sum: number, sumSq: number, sumCubes?: number | null): Summary {
  if (!(n >= 0) || !Number.isFinite(n)) throw new StatsInputError('n', n, 'must be a finite count ≥ 0');
  if (!Number.isFinite(sum)) throw new StatsInputError('sum', sum, 'must be finite');
  if (!Number.isFinite(sumSq)) throw new StatsInputError('sumSq', sumSq, 'must be finite');
  if (sumCubes !== undefined && sumCubes !== null && !Number.isFinite(sumCubes))
    throw new StatsInputError('sumCubes', sumCubes, 'must be finite');
  if (n === 0) return { ...EMPTY_SUMMARY };
  const mean = sum / n;
  const m2Sum = Math.max(0, sumSq - sum * mean);
  const variance = n > 1 ? m2Sum / (n - 1) : 0;
  if (sumCubes === undefined || sumCubes === null) return { n, mean, variance };
  // Σ(x − μ)³ = S₃ − 3μS₂ + 2μ²S₁ (S₁ = nμ).
  const m3Sum = sumCubes - 3 * mean * sumSq + 2 * mean * mean * sum;
  return { n, mean, variance, skewness: skewnessOf(n, m2Sum, m3Sum) };
}

/**
 * g₁ from the sums of squared and cubed deviations. A sample without spread has no shape to worry about
 * (0). Raw-moment sums cancel when the mean dwarfs the spread, so the estimate is clamped to the bound
 * every sample of n obeys, |g₁| ≤ (n − 2)/√(n − 1), rather than letting rounding invent extreme skew.
 */
function skewnessOf(n: number, m2Sum: number, m3Sum: number): number {
  if (n < 3 || !(m2Sum > 0)) return 0;
  const g1 = (Math.sqrt(n) * m3Sum) / m2Sum ** 1.5;
  const bound = (n - 2) / Math.sqrt(n - 1);
  return Math.max(-bound, Math.min(bound, g1));
}

/**
 * Combines summaries of disjoint samples exactly (Chan et al.'s pairwise update, with Pébay's for the third
 * moment). The skewness is known only when every non-empty part's is.
 */
export function mergeSummaries(...parts: readonly Summary[]): Summary {
  let n = 0;
  let mean = 0;
  let m2 = 0;
  let m3: number | undefined = 0;
  parts.forEach((p, i) => {
    validateSummary(`parts[${i}]`, p);
    if (p.n === 0) return;
    const total = n + p.n;
    const delta = p.mean - mean;
    const pm2 = p.n > 1 ? p.variance * (p.n - 1) : 0;
    if (m3 !== undefined && p.skewness !== undefined) {
      const pm3 = (p.skewness * pm2 ** 1.5) / Math.sqrt(p.n);
      m3 +=
        pm3 +
        (delta ** 3 * n * p.n * (n - p.n)) / (total * total) +
        (3 * delta * (n * pm2 - p.n * m2)) / total;
    } else m3 = undefined;
    mean += (delta * p.n) / total;
    m2 += pm2 + (delta * delta * n * p.n) / total;
    n = total;
  });
  const variance = n > 1 ? m2 / (n - 1) : 0;
  return m3 === undefined ? { n, mean, variance } : { n, mean, variance, skewness: skewnessOf(n, m2, m3) };
}

/** Adds observations one at a time (used by simulations and streaming callers); third moment by Terriberry's update. */
export class SummaryAccumulator {
  private count = 0;
  private m = 0;
  private m2 = 0;
  private m3 = 0;

  push(x: number): void {
    const before = this.count;
    this.count += 1;
    const delta = x - this.m;
    const deltaN = delta / this.count;
    const term = delta * deltaN * before;
    this.m += deltaN;
    this.m3 += term * deltaN * (this.count - 2) - 3 * deltaN * this.m2;
    this.m2 += term;
  }

  get n(): number {
    return this.count;
  }

  summary(): Summary {
    return {
      n: this.count,
      mean: this.m,
      variance: this.count > 1 ? this.m2 / (this.count - 1) : 0,
      skewness: skewnessOf(this.count, this.m2, this.m3),
    };
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
  if (s.skewness !== undefined && (typeof s.skewness !== 'number' || !Number.isFinite(s.skewness))) {
    throw new StatsInputError(`${field}.skewness`, s.skewness, 'must be a finite number when given');
  }
  if (s.n < minN) throw new InsufficientDataError(`${field}.n`, s.n, minN);
  return s;
}

/** Arrays are validated and summarised; summaries are validated. */
export function toSummary(field: string, sample: Sample, minN = 0): Summary {
  const s = Array.isArray(sample) ? summarize(sample as readonly number[], field) : (sample as Summary);
  return validateSummary(field, s, minN);
}
