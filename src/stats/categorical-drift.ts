/**
 * Drift of a categorical input (an airport, a product category): how far the current category shares
 * moved from a reference's, as PSI over category shares, with Pearson's chi-square test of homogeneity
 * beside it. The numeric PSI (psi.ts) bins by the reference's quantiles; categories are their own bins.
 */
import { StatsInputError, requireCount } from './errors.js';
import { chiSquareSf } from './chi-square.js';

export interface CategoricalDriftOptions {
  /** A reference category gets a bin of its own when its share is at least this (default 0.005). */
  minShare?: number;
  /** At most this many categories get their own bin, the most frequent first (default 50). */
  maxBins?: number;
  /** Share substituted for an empty bin so ln(cur/ref) stays finite (default 1e-4, as psi()). */
  epsilon?: number;
}

/** The bin of current categories the reference never had. */
export const UNSEEN = '(unseen)';
/** The bin of reference categories too rare for a bin of their own. */
export const OTHER = '(other)';

export interface CategoricalDrift {
  psi: number;
  chiSquare: { statistic: number; df: number; pValue: number };
  /** Counts per bin: the kept categories, then `(other)` and `(unseen)` when they hold anything. */
  bins: Array<{ category: string; reference: number; current: number }>;
  /** Share of current values in categories the reference never had. */
  unseenShare: number;
}

/**
 * PSI = Σ (cur − ref)·ln(cur/ref) over bins of categories, and the chi-square test of homogeneity of the
 * 2 × k table of counts. Bins: each reference category with at least `minShare` of the reference (up to
 * `maxBins`), `(other)` for the rarer reference categories, and `(unseen)` for current categories the
 * reference never had. A new category is thus never dropped: a flood of them is drift, which the
 * `(unseen)` bin shows (its reference share is 0, counted as `epsilon`). Bins empty on both sides are left
 * out; an empty share on one side is `epsilon`, without renormalising, as in psi().
 */
export function categoricalDrift(
  reference: Readonly<Record<string, number>>,
  current: Readonly<Record<string, number>>,
  options: CategoricalDriftOptions = {},
): CategoricalDrift {
  const minShare = options.minShare ?? 0.005;
  const maxBins = options.maxBins ?? 50;
  const epsilon = options.epsilon ?? 1e-4;
  if (!(minShare >= 0 && minShare < 1)) throw new StatsInputError('minShare', minShare, 'must lie in [0, 1)');
  if (!Number.isInteger(maxBins) || maxBins < 1)
    throw new StatsInputError('maxBins', maxBins, 'must be an integer ≥ 1');
  if (!(epsilon > 0 && epsilon < 1))
    throw new StatsInputError('epsilon', epsilon, 'must lie strictly between 0 and 1');
  for (const [side, counts] of [
    ['reference', reference],
    ['current', current],
  ] as const)
    for (const [category, n] of Object.entries(counts)) requireCount(`${side}.${category}`, n);
  const refTotal = sum(reference);
  const curTotal = sum(current);
  if (refTotal === 0) throw new StatsInputError('reference', refTotal, 'has no values');
  if (curTotal === 0) throw new StatsInputError('current', curTotal, 'has no values');

  const kept = Object.entries(reference)
    .filter(([, n]) => n / refTotal >= minShare && n > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, maxBins)
    .map(([category]) => category);
  const keptSet = new Set(kept);
  const bins = new Map<string, { reference: number; current: number }>(
    [...kept, OTHER, UNSEEN].map((c) => [c, { reference: 0, current: 0 }]),
  );
  for (const [category, n] of Object.entries(reference))
    bins.get(keptSet.has(category) ? category : OTHER)!.reference += n;
  for (const [category, n] of Object.entries(current))
    bins.get(keptSet.has(category) ? category : category in reference ? OTHER : UNSEEN)!.current += n;
  const rows = [...bins]
    .filter(([, b]) => b.reference + b.current > 0)
    .map(([category, b]) => ({ category, ...b }));

  let psi = 0;
  let statistic = 0;
  const total = refTotal + curTotal;
  for (const b of rows) {
    const r = b.reference === 0 ? epsilon : b.reference / refTotal;
    const c = b.current === 0 ? epsilon : b.current / curTotal;
    psi += (c - r) * Math.log(c / r);
    const column = b.reference + b.current;
    for (const [observed, rowTotal] of [
      [b.reference, refTotal],
      [b.current, curTotal],
    ] as const) {
      const expected = (rowTotal * column) / total;
      statistic += (observed - expected) ** 2 / expected;
    }
  }
  const df = rows.length - 1;
  return {
    psi,
    chiSquare: { statistic, df, pValue: df > 0 ? chiSquareSf(statistic, df) : 1 },
    bins: rows,
    unseenShare: (bins.get(UNSEEN)?.current ?? 0) / curTotal,
  };
}

function sum(counts: Readonly<Record<string, number>>): number {
  let s = 0;
  for (const n of Object.values(counts)) s += n;
  return s;
}
