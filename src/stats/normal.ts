/**
 * Standard normal distribution. Hand-written rather than taken from simple-statistics, whose
 * `cumulativeStdNormalProbability` is a table lookup (2 decimals) and whose `probit` uses an erf inverse
 * accurate to ~1e-7 — far from the 1e-9 the reference vectors demand and useless in the tails where
 * p-values for rollbacks live. Cody's rational approximations (ACM TOMS 715, the algorithm behind R's
 * pnorm) give ~1e-15 relative accuracy in both tails; Wichura's AS 241 (R's qnorm) inverts it.
 */
import { StatsInputError } from './errors.js';
import type { TailPair } from './special.js';

const SQRT_32 = 5.656854249492380195206754896838;
const INV_SQRT_2PI = 0.398942280401432677939946059934;

const A = [
  2.2352520354606839287, 161.02823106855587881, 1067.6894854603709582, 18154.981253343561249,
  0.065682337918207449113,
];
const B = [47.20258190468824187, 976.09855173777669322, 10260.932208618978205, 45507.789335026729956];
const C = [
  0.39894151208813466764, 8.8831497943883759412, 93.506656132177855979, 597.27027639480026226,
  2494.5375852903726711, 6848.1904505362823326, 11602.651437647350124, 9842.7148383839780218,
  1.0765576773720192317e-8,
];
const D = [
  22.266688044328115691, 235.38790178262499861, 1519.377599407554805, 6485.558298266760755,
  18615.571640885098091, 34900.952721145977266, 38912.003286093271411, 19685.429676859990727,
];
const P = [
  0.21589853405795699, 0.1274011611602473639, 0.022235277870649807, 0.001421619193227893466,
  2.9112874951168792e-5, 0.02307344176494017303,
];
const Q = [
  1.28426009614491121, 0.468238212480865118, 0.0659881378689285515, 0.00378239633202758244,
  7.29751555083966205e-5,
];

/**
 * exp(−x²/2)·factor without the cancellation of squaring x directly: x is split into a part with few
 * mantissa bits (exact square) and a small remainder (Cody's trick).
 */
function gaussTail(x: number, factor: number): number {
  const xsq = Math.trunc(x * 16) / 16;
  const del = (x - xsq) * (x + xsq);
  return Math.exp(-xsq * xsq * 0.5) * Math.exp(-del * 0.5) * factor;
}

/** Both tails of the standard normal at z: `lower` = Φ(z), `upper` = 1 − Φ(z), each accurate on its own. */
export function normalTails(z: number): TailPair {
  if (Number.isNaN(z)) throw new StatsInputError('z', z, 'must be a number');
  const y = Math.abs(z);
  if (y <= 0.67448975) {
    let xnum = 0;
    let xden = 0;
    if (y > 1.1102230246251565e-16) {
      const xsq = z * z;
      xnum = A[4]! * xsq;
      xden = xsq;
      for (let i = 0; i < 3; i++) {
        xnum = (xnum + A[i]!) * xsq;
        xden = (xden + B[i]!) * xsq;
      }
    }
    const temp = (z * (xnum + A[3]!)) / (xden + B[3]!);
    return { lower: 0.5 + temp, upper: 0.5 - temp };
  }
  let small: number; // the tail beyond |z|
  if (y <= SQRT_32) {
    let xnum = C[8]! * y;
    let xden = y;
    for (let i = 0; i < 7; i++) {
      xnum = (xnum + C[i]!) * y;
      xden = (xden + D[i]!) * y;
    }
    small = gaussTail(y, (xnum + C[7]!) / (xden + D[7]!));
  } else if (y < 38.5) {
    const xsq = 1 / (z * z);
    let xnum = P[5]! * xsq;
    let xden = xsq;
    for (let i = 0; i < 4; i++) {
      xnum = (xnum + P[i]!) * xsq;
      xden = (xden + Q[i]!) * xsq;
    }
    let temp = (xsq * (xnum + P[4]!)) / (xden + Q[4]!);
    temp = (INV_SQRT_2PI - temp) / y;
    small = gaussTail(y, temp);
  } else {
    small = 0; // below the smallest subnormal
  }
  return z > 0 ? { lower: 1 - small, upper: small } : { lower: small, upper: 1 - small };
}

/** Φ(z), the standard normal CDF; accurate to ~1e-15 relative in the lower tail (e.g. Φ(−37)). */
export function normalCdf(z: number): number {
  return normalTails(z).lower;
}

/** 1 − Φ(z), computed without cancellation for large z. */
export function normalSf(z: number): number {
  return normalTails(z).upper;
}

export function normalPdf(z: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * z * z);
}

/**
 * Φ⁻¹(p). p = 0 and p = 1 give −∞ and +∞ (the limits); anything outside [0, 1] or NaN is a
 * StatsInputError. Wichura's AS 241 (~1e-16) followed by one Halley step against normalTails, which
 * polishes the last bits in the tails where the rational approximation is weakest.
 */
export function normalQuantile(p: number): number {
  if (typeof p !== 'number' || Number.isNaN(p) || p < 0 || p > 1) {
    throw new StatsInputError('p', p, 'must lie in [0, 1]');
  }
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  const x0 = as241(p);
  // Halley step on the tail that p describes: for p > ½ the upper tail 1 − p is exact (Sterbenz) and small.
  const tails = normalTails(x0);
  const e = p < 0.5 ? tails.lower - p : 1 - p - tails.upper;
  const u = e / normalPdf(x0);
  if (!Number.isFinite(u)) return x0;
  const x1 = x0 - u / (1 + 0.5 * x0 * u);
  return Number.isFinite(x1) ? x1 : x0;
}

function as241(p: number): number {
  const q = p - 0.5;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    return (
      (q *
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r +
          45921.953931549871457) *
          r +
          13731.693765509461125) *
          r +
          1971.5909503065514427) *
          r +
          133.14166789178437745) *
          r +
          3.387132872796366608)) /
      (((((((r * 5226.495278852854561 + 28729.085735721942674) * r + 39307.89580009271061) * r +
        21213.794301586595867) *
        r +
        5394.1960214247511077) *
        r +
        687.1870074920579083) *
        r +
        42.313330701600911252) *
        r +
        1)
    );
  }
  let r = Math.sqrt(-Math.log(q < 0 ? p : 1 - p));
  let val: number;
  if (r <= 5) {
    r -= 1.6;
    val =
      (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
        1.27045825245236838258) *
        r +
        3.64784832476320460504) *
        r +
        5.7694972214606914055) *
        r +
        4.6303378461565452959) *
        r +
        1.42343711074968357734) /
      (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
        0.14810397642748007459) *
        r +
        0.68976733498510000455) *
        r +
        1.6763848301838038494) *
        r +
        2.05319162663775882187) *
        r +
        1);
  } else {
    r -= 5;
    val =
      (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
        0.026532189526576123093) *
        r +
        0.29656057182850489123) *
        r +
        1.7848265399172913358) *
        r +
        5.4637849111641143699) *
        r +
        6.6579046435011037772) /
      (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
        7.868691311456132591e-4) *
        r +
        0.0148753612908506148525) *
        r +
        0.13692988092273580531) *
        r +
        0.59983220655588793769) *
        r +
        1);
  }
  return q < 0 ? -val : val;
}
