import { binIndexOf, binKey, type Histogram, type HistogramMoments } from './histogram.js';

/**
 * What rollups keep of the shape of a metric's values beyond count, sum and sum of squares: the sum of
 * cubes (skewness) and a histogram whose bins carry the sum, sum of squares and sum of cubes of their values
 * (capping at any bin edge). Both stay known only while every sum of cubes stays within MAX_SUM_CUBES.
 */

/**
 * A sum of cubes whose magnitude would pass this is stored as unknown (NULL, or '{}' moments) instead.
 * Values reach 1e50 and derived outcome metrics 1e110 (limits.ts), so a cube can exceed float8's 1.8e308,
 * and PostgreSQL refuses a float8 overflow with an error that would fail the whole batch. 1e300 leaves
 * room to add two bounded sums (in the upsert, migration 20261202000009) and thousands of rows (in a
 * reader's window) without overflowing. Migration 20261202000009 holds the same bound in SQL.
 */
export const MAX_SUM_CUBES = 1e300;

/** x³ added to a sum of cubes, or NaN (unknown, and staying so) once it would pass MAX_SUM_CUBES. */
export function addCube(sumCubes: number, cube: number): number {
  const s = sumCubes + cube;
  // False for NaN too, so an unknown sum stays unknown.
  return s <= MAX_SUM_CUBES && s >= -MAX_SUM_CUBES ? s : Number.NaN;
}

/** Per bin index (binIndexOf): [count, Σx, Σx², Σx³]. */
export type BinnedValues = Map<number, [count: number, sum: number, sumSq: number, sumCubes: number]>;

/**
 * Adds one value to its bin. Bins are keyed by number, not by the Histogram's string key, and a tuple is
 * allocated only when a bin opens: this runs for every continuous value ingested.
 */
export function addBinned(bins: BinnedValues, value: number): void {
  const bin = binIndexOf(value);
  const sq = value * value;
  const b = bins.get(bin);
  if (b) {
    b[0] += 1;
    b[1] += value;
    b[2] += sq;
    b[3] += sq * value;
  } else bins.set(bin, [1, value, sq, sq * value]);
}

export function histogramOf(bins: BinnedValues): Histogram {
  const h: Histogram = {};
  for (const [bin, b] of bins) h[binKey(bin)] = b[0];
  return h;
}

/**
 * The per-bin moments, or undefined (unknown) when any bin's sum of cubes passed MAX_SUM_CUBES. Checked once
 * here rather than per value: a bin's values share a sign (only the zero bin holds negatives, and its
 * positives, below 1e-3, are too small to move a sum near the bound), so its sum of cubes only grows in
 * magnitude and ends past the bound (or infinite) exactly when it passed it on the way.
 */
export function momentsOf(bins: BinnedValues): HistogramMoments | undefined {
  const m: HistogramMoments = {};
  for (const [bin, b] of bins) {
    if (!(Math.abs(b[3]) <= MAX_SUM_CUBES)) return undefined;
    m[binKey(bin)] = [b[1], b[2], b[3]];
  }
  return m;
}
