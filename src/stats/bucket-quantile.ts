import { StatsInputError } from './errors.js';

/** One bucket of a cumulative histogram (Prometheus's `le` buckets): values ≤ `le` were counted `count` times. */
export interface CumulativeBucket {
  le: number;
  count: number;
}

/**
 * The q-quantile of a cumulative histogram, computed as PromQL's `histogram_quantile` computes it, so a
 * guardrail reads the figure a person sees on their own Prometheus dashboards: the rank q·n is found in the
 * first bucket whose count reaches it and interpolated linearly inside that bucket (from 0 for the first
 * bucket), and a rank in the +Inf bucket answers the highest finite bound. Counts that decrease (increase()
 * extrapolates each series on its own) are raised to the running maximum, as PromQL does.
 * Undefined when there is nothing to read: no +Inf bucket, fewer than two buckets, or no observations.
 */
export function bucketQuantile(q: number, buckets: readonly CumulativeBucket[]): number | undefined {
  if (!(q > 0 && q < 1)) throw new StatsInputError('quantile', q, 'must lie strictly between 0 and 1');
  for (const [i, b] of buckets.entries()) {
    if (Number.isNaN(b.le)) throw new StatsInputError(`buckets[${i}].le`, b.le, 'must be a number');
    if (!Number.isFinite(b.count) || b.count < 0)
      throw new StatsInputError(`buckets[${i}].count`, b.count, 'must be a finite count ≥ 0');
  }
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted.length < 2 || sorted[sorted.length - 1]!.le !== Infinity) return undefined;
  let max = 0;
  const counts = sorted.map((b) => (max = Math.max(max, b.count)));
  const n = counts[counts.length - 1]!;
  if (n === 0) return undefined;
  const rank = q * n;
  const i = counts.findIndex((c) => c >= rank);
  if (i === sorted.length - 1) return sorted[sorted.length - 2]!.le;
  const upper = sorted[i]!.le;
  if (i === 0 && upper <= 0) return upper;
  const lower = i === 0 ? 0 : sorted[i - 1]!.le;
  const below = i === 0 ? 0 : counts[i - 1]!;
  const inBucket = counts[i]! - below;
  return lower + (upper - lower) * ((rank - below) / inBucket);
}

/**
 * Cumulative histograms of the same metric added up (windows of several stages): bounds absent from one
 * histogram read its count at the next lower bound it has, which is what a cumulative count means.
 */
export function addCumulativeBuckets(
  histograms: ReadonlyArray<readonly CumulativeBucket[]>,
): CumulativeBucket[] {
  const bounds = [...new Set(histograms.flatMap((h) => h.map((b) => b.le)))].sort((a, b) => a - b);
  return bounds.map((le) => ({
    le,
    count: histograms.reduce((sum, h) => {
      let at = 0;
      for (const b of h) if (b.le <= le) at = Math.max(at, b.count);
      return sum + at;
    }, 0),
  }));
}
