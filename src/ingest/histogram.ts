/**
 * Mergeable log-bucket histograms (the DDSketch mapping): a positive value v falls in bin ⌈ln v / ln γ⌉ with
 * γ = (1 + α)/(1 − α), and a bin is represented by 2γ^i/(γ + 1), which is within relative error α of every
 * value in it. α = 0.5 % keeps p50/p95/p99 within 1 % even after the rank is rounded to a bin. Bins are
 * counted per time bucket and merged by adding counts, so any window's quantiles come from rollups.
 */
export const RELATIVE_ACCURACY = 0.005;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Values at or below this (including 0) share one bin: latencies under a microsecond are all "zero". */
const MIN_VALUE = 1e-3;
export const ZERO_BIN = 'z';

export type Histogram = Record<string, number>;

/**
 * Per bin of a Histogram, the sum, sum of squares and sum of cubes of the values counted in it: with them,
 * the moments of the values capped at any bin edge are exact (src/stats/capping.ts), so no cap has to be
 * chosen at ingestion.
 */
export type HistogramMoments = Record<string, [sum: number, sumSq: number, sumCubes: number]>;

/** binOf's bin as a number, ZERO_BIN_INDEX for the zero bin: a hot loop keys bins by it without a string. */
export const ZERO_BIN_INDEX = -(2 ** 30);

export function binIndexOf(value: number): number {
  if (value <= MIN_VALUE) return ZERO_BIN_INDEX;
  return Math.ceil(Math.log(value) / LOG_GAMMA);
}

/** The Histogram key of a bin index. */
export function binKey(index: number): string {
  return index === ZERO_BIN_INDEX ? ZERO_BIN : String(index);
}

export function binOf(value: number): string {
  return binKey(binIndexOf(value));
}

export function binValue(bin: string): number {
  if (bin === ZERO_BIN) return 0;
  const i = Number(bin);
  return (2 * GAMMA ** i) / (GAMMA + 1);
}

/** Every value in the bin is at most this: γ^i, or MIN_VALUE for the zero bin (which also holds negatives). */
export function binUpperEdge(bin: string): number {
  return bin === ZERO_BIN ? MIN_VALUE : GAMMA ** Number(bin);
}

/** Every value in the bin is above this: γ^(i−1), or −∞ for the zero bin. */
export function binLowerEdge(bin: string): number {
  return bin === ZERO_BIN ? -Infinity : GAMMA ** (Number(bin) - 1);
}

export function addToHistogram(h: Histogram, value: number, count = 1): void {
  const bin = binOf(value);
  h[bin] = (h[bin] ?? 0) + count;
}

export function mergeHistograms(into: Histogram, from: Histogram): Histogram {
  for (const [bin, count] of Object.entries(from)) into[bin] = (into[bin] ?? 0) + count;
  return into;
}

/**
 * The q-quantile (0 ≤ q ≤ 1) with the same rank convention as a sorted array's element ⌊q·(n−1)⌋ …
 * rounded to the bin that holds it. Undefined for an empty histogram.
 */
export function histogramQuantile(h: Histogram, q: number): number | undefined {
  const bins = Object.entries(h).filter(([, c]) => c > 0);
  const n = bins.reduce((s, [, c]) => s + c, 0);
  if (n === 0) return undefined;
  bins.sort(
    ([a], [b]) => (a === ZERO_BIN ? -Infinity : Number(a)) - (b === ZERO_BIN ? -Infinity : Number(b)),
  );
  const rank = Math.floor(q * (n - 1));
  let seen = 0;
  for (const [bin, count] of bins) {
    seen += count;
    if (seen > rank) return binValue(bin);
  }
  return binValue(bins[bins.length - 1]![0]);
}

export function histogramCount(h: Histogram): number {
  return Object.values(h).reduce((s, c) => s + c, 0);
}
