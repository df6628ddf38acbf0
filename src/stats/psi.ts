/**
 * Population stability index of a feature or score: how far the current distribution moved from a
 * reference one. Bins are the reference quantiles (deciles by default); conventional reading:
 * < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 significant shift.
 */
import { InsufficientDataError, StatsInputError, requireFiniteArray } from './errors.js';

export interface PsiOptions {
  /** Number of quantile bins of the reference (default 10: deciles). */
  bins?: number;
  /** Share substituted for an empty bin so ln(cur/ref) stays finite (default 1e-4). */
  epsilon?: number;
}

/**
 * PSI = Σ (cur − ref)·ln(cur/ref) over bins whose inner edges are the reference quantiles at k/bins
 * (NumPy's default linear interpolation). The outer bins are open; a value equal to an edge goes to the
 * upper bin; a bin share of 0 (on either side) is replaced by `epsilon`, without renormalising.
 */
export function psi(
  reference: readonly number[],
  current: readonly number[],
  options: PsiOptions = {},
): number {
  const bins = options.bins ?? 10;
  const epsilon = options.epsilon ?? 1e-4;
  if (!Number.isInteger(bins) || bins < 2) throw new StatsInputError('bins', bins, 'must be an integer ≥ 2');
  if (typeof epsilon !== 'number' || !(epsilon > 0 && epsilon < 1)) {
    throw new StatsInputError('epsilon', epsilon, 'must lie strictly between 0 and 1');
  }
  requireFiniteArray('reference', reference);
  requireFiniteArray('current', current);
  if (reference.length < 1) throw new InsufficientDataError('reference.length', reference.length, 1);
  if (current.length < 1) throw new InsufficientDataError('current.length', current.length, 1);

  const sorted = [...reference].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) edges.push(quantileLinearSorted(sorted, k / bins));

  const refShares = binShares(reference, edges, bins);
  const curShares = binShares(current, edges, bins);
  let total = 0;
  for (let k = 0; k < bins; k++) {
    const r = refShares[k]! === 0 ? epsilon : refShares[k]!;
    const c = curShares[k]! === 0 ? epsilon : curShares[k]!;
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

/**
 * NumPy's `quantile(..., method='linear')` on sorted data, including its two-sided lerp (which rounds
 * differently from a + t·(b − a) when t ≥ ½), so bin edges match the reference bit for bit.
 */
export function quantileLinearSorted(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const t = h - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

function binShares(values: readonly number[], edges: readonly number[], bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    // Upper-bound binary search: the number of edges ≤ v is the bin index.
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid]! <= v) lo = mid + 1;
      else hi = mid;
    }
    counts[lo]! += 1;
  }
  return counts.map((c) => c / values.length);
}
