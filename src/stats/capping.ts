/**
 * Capping (winsorizing) a metric's values from binned sums: every value above the cap counts as the cap.
 * With each bin's count and sums of powers, the capped moments are exact when the cap is a bin edge —
 * values below it are kept as they were, values above it are all replaced — so no cap has to be chosen
 * when values are recorded. docs/statistics.md, "Capping", gives the trade-off.
 */
import { StatsInputError } from './errors.js';
import { summaryFromSums, type Summary } from './summary.js';

/** One bin of values in (lower, upper], with the count and sums of powers of the values in it. */
export interface MomentBin {
  lower: number;
  upper: number;
  count: number;
  sum: number;
  sumSq: number;
  sumCubes: number;
}

/**
 * The summary of the values with every value above `cap` replaced by `cap`. `cap` must not fall strictly
 * inside a bin (the values there could lie on either side of it): pass a bin edge (capAtQuantile, snapCap).
 */
export function cappedSummary(bins: readonly MomentBin[], cap: number): Summary {
  if (!Number.isFinite(cap)) throw new StatsInputError('cap', cap, 'must be finite');
  let n = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (const b of bins) {
    if (b.count === 0) continue;
    n += b.count;
    if (b.upper <= cap) {
      s1 += b.sum;
      s2 += b.sumSq;
      s3 += b.sumCubes;
    } else if (b.lower >= cap) {
      s1 += b.count * cap;
      s2 += b.count * cap * cap;
      s3 += b.count * cap * cap * cap;
    } else {
      throw new StatsInputError(
        'cap',
        cap,
        `falls inside the bin (${b.lower}, ${b.upper}]: cap at a bin edge`,
      );
    }
  }
  return summaryFromSums(n, s1, s2, s3);
}

/**
 * The upper edge of the bin that holds the q-quantile (rank ⌊q·(n − 1)⌋ of the sorted values, as
 * histogramQuantile): at least the quantile, and above it by less than one bin's width. Undefined when
 * there are no values.
 */
export function capAtQuantile(bins: readonly MomentBin[], q: number): number | undefined {
  if (!(q > 0 && q < 1)) throw new StatsInputError('quantile', q, 'must lie strictly between 0 and 1');
  const sorted = bins.filter((b) => b.count > 0).sort((a, b) => a.upper - b.upper);
  const n = sorted.reduce((s, b) => s + b.count, 0);
  if (n === 0) return undefined;
  const rank = Math.floor(q * (n - 1));
  let seen = 0;
  for (const b of sorted) {
    seen += b.count;
    if (seen > rank) return b.upper;
  }
  return sorted[sorted.length - 1]!.upper;
}
