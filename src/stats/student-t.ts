/**
 * Student's t distribution with real (Welch-fractional) degrees of freedom. simple-statistics lacks it;
 * @stdlib's typed t CDF matches SciPy, but the χ² tail SRM needs is missing there and the three packages
 * bring 218 more (see special.ts), so the CDF is the regularized incomplete beta here and the quantile
 * inverts it numerically. Known limit: past df ≈ 1e6 its relative error grows (8e-12 at 1e6, 3e-9 at 1e8).
 */
import { StatsInputError, StatsNumericError } from './errors.js';
import { normalQuantile, normalTails } from './normal.js';
import { incompleteBeta, logBeta, type TailPair } from './special.js';

function checkDf(df: number): void {
  if (typeof df !== 'number' || Number.isNaN(df) || !(df > 0)) {
    throw new StatsInputError('df', df, 'degrees of freedom must be > 0');
  }
}

/** Both tails at t: `lower` = P(T ≤ t), `upper` = P(T > t), each computed on its own side. */
export function studentTTails(t: number, df: number): TailPair {
  checkDf(df);
  if (Number.isNaN(t)) throw new StatsInputError('t', t, 'must be a number');
  if (df === Infinity) return normalTails(t);
  if (t === 0) return { lower: 0.5, upper: 0.5 };
  if (t === Infinity) return { lower: 1, upper: 0 };
  if (t === -Infinity) return { lower: 0, upper: 1 };
  // P(|T| > |t|) = I_x(ν/2, ½) with x = ν/(ν+t²); x and 1 − x are formed without cancellation or
  // overflow of t² for either size of |t|.
  let x: number;
  let y: number;
  const at = Math.abs(t);
  if (at > 1) {
    const r = df / at / at;
    x = r / (1 + r);
    y = 1 / (1 + r);
  } else {
    const s = (at * at) / df;
    x = 1 / (1 + s);
    y = s / (1 + s);
  }
  const tail = 0.5 * incompleteBeta(df / 2, 0.5, x, y).lower;
  return t < 0 ? { lower: tail, upper: 1 - tail } : { lower: 1 - tail, upper: tail };
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional or Infinity). */
export function studentTCdf(t: number, df: number): number {
  return studentTTails(t, df).lower;
}

/** P(T > t), accurate for large t. */
export function studentTSf(t: number, df: number): number {
  return studentTTails(t, df).upper;
}

export function studentTPdf(t: number, df: number): number {
  checkDf(df);
  if (df === Infinity) return Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  return Math.exp(-((df + 1) / 2) * Math.log1p((t * t) / df) - logBeta(df / 2, 0.5)) / Math.sqrt(df);
}

/**
 * The t quantile: P(T ≤ q) = p. p = 0 / 1 give ∓∞; outside [0, 1] is a StatsInputError. Solved on the
 * lower tail min(p, 1 − p) (1 − p is exact for p ≥ ½) by Newton's method on log CDF — whose curvature is
 * mild even far in the tail — inside a bisection bracket, so it cannot diverge for tiny df.
 */
export function studentTQuantile(p: number, df: number): number {
  checkDf(df);
  if (typeof p !== 'number' || Number.isNaN(p) || p < 0 || p > 1) {
    throw new StatsInputError('p', p, 'must lie in [0, 1]');
  }
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (df === Infinity) return normalQuantile(p);
  const lowerP = p < 0.5 ? p : 1 - p;
  const q = lowerTailQuantile(lowerP, df);
  return p < 0.5 ? q : -q;
}

/** The negative t with P(T ≤ t) = p, for 0 < p < ½. */
function lowerTailQuantile(p: number, df: number): number {
  // Closed forms where they exist (and are exact in the tails).
  if (df === 1) return -1 / Math.tan(Math.PI * p);
  if (df === 2) return -(1 - 2 * p) / Math.sqrt(2 * p * (1 - p));

  // Start from the Cornish–Fisher expansion around the normal quantile; good to a few digits for df ≥ 3.
  const z = normalQuantile(p);
  const z2 = z * z;
  let t =
    z +
    (z * (z2 + 1)) / (4 * df) +
    (z * (5 * z2 * z2 + 16 * z2 + 3)) / (96 * df * df) +
    (z * (((3 * z2 + 19) * z2 + 17) * z2 - 15)) / (384 * df * df * df);
  if (!(t < 0) || !Number.isFinite(t)) t = z;

  // Bracket [lo, hi] with cdf(lo) ≤ p ≤ cdf(hi); hi = 0 since p < ½.
  let hi = 0;
  let lo = Math.min(t, -1);
  for (let i = 0; studentTCdf(lo, df) > p; i++) {
    hi = lo;
    lo *= 4;
    if (i > 400) throw new StatsNumericError(`t quantile bracket failed (p=${p}, df=${df})`);
  }
  if (t <= lo || t >= hi) t = (lo + hi) / 2;

  const logP = Math.log(p);
  for (let i = 0; i < 200; i++) {
    const cdf = studentTCdf(t, df);
    if (cdf === p) return t;
    if (cdf > p) hi = t;
    else lo = t;
    // Newton on g(t) = ln F(t) − ln p, g' = f(t)/F(t).
    const g = Math.log(cdf) - logP;
    const slope = studentTPdf(t, df) / cdf;
    let next = t - g / slope;
    if (!(next > lo && next < hi) || !Number.isFinite(next)) next = (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-15 * Math.abs(t) || hi - lo <= 1e-15 * Math.abs(lo)) return next;
    t = next;
  }
  throw new StatsNumericError(`t quantile did not converge (p=${p}, df=${df})`);
}
