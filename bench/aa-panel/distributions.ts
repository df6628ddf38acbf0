/**
 * The metric distributions of the A/A panel (issue #23): from the half-normal abs_error that
 * bench/stats-simulation.ts draws to the skewed shapes real metrics take — APE with near-zero actuals and
 * latency (lognormal), revenue-like power laws (Pareto), mostly-zero losses (zero-inflated) and rare
 * errors (Bernoulli). Samplers add straight into running sums: the panel draws about 10⁹ values, so there
 * is no per-observation allocation and no per-observation division.
 */
import { normalQuantile, type Rng } from '../../src/stats/index.js';

/** Count and sums of powers of one arm (what rollups store; see summaryFromSums). */
export interface Sums {
  n: number;
  sum: number;
  sumSq: number;
  sumCubes: number;
}

export interface Distribution {
  /** Shown in the panel table, e.g. "lognormal σ=2". */
  name: string;
  /** True mean of one unscaled draw (the unit test checks the sampler against it). */
  mean: number;
  /**
   * A proportion metric: the arm's sums are counts of 0/1 values and go to the gate as
   * `{ successes, n }`, as src/analysis/evidence.ts hands it proportion metrics.
   */
  counts: boolean;
  /**
   * Adds `count` draws, each multiplied by `scale` (a probability, for counts), to `sums`; with `cap`, every
   * scaled draw above it counts as the cap (counts ignore it: a 0/1 value has no tail to cap).
   */
  add(rng: Rng, sums: Sums, count: number, scale: number, cap?: number): void;
  /** The q-quantile of one unscaled draw, where known in closed form (what a cap is set from). */
  quantile?(q: number): number;
}

export const emptySums = (): Sums => ({ n: 0, sum: 0, sumSq: 0, sumCubes: 0 });

const HALF_NORMAL_SCALE = 12.5;

/** |N(0, 12.5²)|, mean ≈ 9.97: the only distribution bench/stats-simulation.ts draws. */
export const halfNormal: Distribution = {
  name: 'half-normal',
  mean: HALF_NORMAL_SCALE * Math.sqrt(2 / Math.PI),
  counts: false,
  add: (rng, sums, count, scale, cap) =>
    addDraws(rng, sums, count, scale, cap, (r) => Math.abs(r.normal()) * HALF_NORMAL_SCALE),
};

/** exp(σ·Z), Z standard normal: mean e^{σ²/2}, squared coefficient of variation e^{σ²} − 1. */
export function lognormal(sigma: number): Distribution {
  return {
    name: `lognormal σ=${sigma}`,
    mean: Math.exp((sigma * sigma) / 2),
    counts: false,
    quantile: (q) => Math.exp(sigma * normalQuantile(q)),
    add: (rng, sums, count, scale, cap) =>
      addDraws(rng, sums, count, scale, cap, (r) => Math.exp(sigma * r.normal())),
  };
}

/** Pareto with minimum 1 and tail index α (by inversion): mean α/(α − 1); infinite variance for α ≤ 2. */
export function pareto(alpha: number): Distribution {
  const exponent = -1 / alpha;
  return {
    name: `Pareto α=${alpha}`,
    mean: alpha / (alpha - 1),
    counts: false,
    // 1 − U lies in (0, 1]: never 0, so never an infinite draw.
    add: (rng, sums, count, scale, cap) =>
      addDraws(rng, sums, count, scale, cap, (r) => Math.pow(1 - r.uniform(), exponent)),
  };
}

/** 0 with probability `zeroShare`, otherwise lognormal σ (e.g. a loss that is mostly exactly zero). */
export function zeroInflated(zeroShare: number, sigma: number): Distribution {
  return {
    name: `zero-inflated ${Math.round(zeroShare * 100)}% zeros + lognormal σ=${sigma}`,
    mean: (1 - zeroShare) * Math.exp((sigma * sigma) / 2),
    counts: false,
    add: (rng, sums, count, scale, cap) =>
      addDraws(rng, sums, count, scale, cap, (r) =>
        r.uniform() < zeroShare ? 0 : Math.exp(sigma * r.normal()),
      ),
  };
}

/**
 * Bernoulli(p), e.g. a rare error: one binomial draw per batch (inversion from 0, O(count·p) steps), not
 * one uniform per request. The scale multiplies p.
 */
export function bernoulli(p: number): Distribution {
  return {
    name: `Bernoulli p=${p}`,
    mean: p,
    counts: true,
    add(rng, sums, count, scale) {
      const k = binomial(rng, count, p * scale);
      accumulate(sums, count, k, k, k);
    },
  };
}

export function binomial(rng: Rng, n: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return n;
  if (n * p > 30) {
    // Inversion would walk far and (1 − p)ⁿ can underflow: count the trials one by one instead.
    let k = 0;
    for (let i = 0; i < n; i++) if (rng.uniform() < p) k += 1;
    return k;
  }
  const u = rng.uniform();
  const ratio = p / (1 - p);
  let pk = Math.pow(1 - p, n);
  let cdf = pk;
  let k = 0;
  while (u >= cdf && k < n) {
    pk *= ((n - k) / (k + 1)) * ratio;
    k += 1;
    cdf += pk;
  }
  return k;
}

/**
 * The one loop every per-request sampler shares: draws, scaled and capped, added to running sums of powers
 * (no allocation per draw: the panel draws about 10⁹ values).
 */
function addDraws(
  rng: Rng,
  sums: Sums,
  count: number,
  scale: number,
  cap: number | undefined,
  draw: (rng: Rng) => number,
): void {
  const ceiling = cap ?? Infinity;
  let s = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < count; i++) {
    const x = Math.min(draw(rng) * scale, ceiling);
    const x2 = x * x;
    s += x;
    s2 += x2;
    s3 += x2 * x;
  }
  accumulate(sums, count, s, s2, s3);
}

function accumulate(sums: Sums, count: number, s: number, s2: number, s3: number): void {
  sums.n += count;
  sums.sum += s;
  sums.sumSq += s2;
  sums.sumCubes += s3;
}

/** The panel's distributions, in table order. */
export const PANEL_DISTRIBUTIONS: readonly Distribution[] = [
  halfNormal,
  lognormal(1),
  lognormal(1.5),
  lognormal(2),
  lognormal(2.5),
  pareto(1.5),
  pareto(2.5),
  zeroInflated(0.9, 1),
  bernoulli(0.001),
];
