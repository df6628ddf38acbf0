/**
 * Special functions behind the distribution functions: log-gamma, log-beta, the regularized incomplete
 * beta and gamma functions.
 *
 * Why hand-written: simple-statistics (already a dependency) has no Student-t or chi-square CDF and its
 * normal CDF/quantile are good to ~3 digits. jStat (1.9.6) has them, but ships no types, stops the
 * incomplete-beta continued fraction after 100 iterations and forms ln B as lnΓ(a) + lnΓ(b) − lnΓ(a+b),
 * whose absolute error grows like df·ln df. Typed packages do exist: @stdlib's (@stdlib/stats-base-dists-*).
 * But its chi-square distribution has a CDF and no survival function, and 1 − CDF loses the upper tail the
 * SRM test reads. Checked with @stdlib/stats-base-dists-chisquare-cdf 0.3.1 against the SciPy vectors in
 * test/fixtures/stats-vectors.json: 1.4e-9 relative error at the SRM vector p = 3.7e-8 (the tests ask for
 * 1e-9), and 0 for any p below ~1e-16 (500,000 against 490,000 requests on a 50/50 split: χ² = 101,
 * p = 9.2e-24 here). The same check found that @stdlib does get that tail through its upper regularized
 * incomplete gamma (@stdlib/math-base-special-gammainc 0.3.1, upper = true), and that its Student-t CDF
 * (@stdlib/stats-base-dists-t-cdf 0.2.3) matches the t vectors to 4e-16 and, against mpmath at t = −3,
 * stays within ~1e-15 up to df = 1e9, where the t CDF here drifts (relative error 8e-12 at df = 1e6, 3e-9
 * at 1e8; the vectors stop at df = 1e4). Installing those three packages brings in 218 @stdlib packages. The algorithms here are the textbook ones (Numerical Recipes' modified Lentz continued
 * fractions; R's nmath treatment of lbeta for large arguments), short enough to audit, and the unit tests
 * pin them to SciPy at 1e-9.
 */
import { StatsNumericError } from './errors.js';

const LN_SQRT_2PI = 0.9189385332046728; // ln √(2π)
const EPS = 2.220446049250313e-16;
/** Lentz's "tiny" that keeps a continued fraction's partial denominators away from zero. */
const FPMIN = 1e-300;

/*
 * Lanczos approximation (g = 7, n = 9): ~1e-15 relative accuracy for Γ on (0, 10], which is where it is
 * used; above 10 the Stirling series with lgammaCorrection is more accurate and cheaper.
 */
const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 0.000009984369578019572, 1.5056327351493116e-7,
];

/**
 * Stirling-series remainder: lnΓ(x) = ½ln(2π) + (x−½)ln x − x + lgammaCorrection(x), for x ≥ 10. Keeping
 * it separate lets logBeta cancel the large terms analytically instead of subtracting huge lnΓ values.
 */
export function lgammaCorrection(x: number): number {
  const x2 = 1 / (x * x);
  // Coefficients B₂ₖ / (2k(2k−1)) of the Stirling series.
  return (
    (1 / 12 -
      x2 *
        (1 / 360 -
          x2 * (1 / 1260 - x2 * (1 / 1680 - x2 * (1 / 1188 - x2 * (691 / 360360 - x2 * (1 / 156))))))) /
    x
  );
}

/** ln Γ(x) for x > 0. */
export function logGamma(x: number): number {
  if (x >= 10) return LN_SQRT_2PI + (x - 0.5) * Math.log(x) - x + lgammaCorrection(x);
  if (x < 0.5) {
    // Reflection keeps the Lanczos sum away from its pole at 0.
    return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  }
  const z = x - 1;
  let a = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * ln B(a, b). For large arguments lnΓ(a) + lnΓ(b) − lnΓ(a+b) subtracts numbers of size a·ln a and keeps
 * only an absolute accuracy of ~1e-16·a·ln a (1e-10 at df = 10⁵); the Stirling forms below cancel the big
 * terms exactly (R's lbeta does the same).
 */
export function logBeta(a: number, b: number): number {
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  if (p >= 10) {
    const corr = lgammaCorrection(p) + lgammaCorrection(q) - lgammaCorrection(p + q);
    return (
      -0.5 * Math.log(q) +
      LN_SQRT_2PI +
      corr +
      (p - 0.5) * Math.log(p / (p + q)) +
      q * Math.log1p(-p / (p + q))
    );
  }
  if (q >= 10) {
    const corr = lgammaCorrection(q) - lgammaCorrection(p + q);
    return logGamma(p) + corr + p - p * Math.log(p + q) + (q - 0.5) * Math.log1p(-p / (p + q));
  }
  return logGamma(p) + logGamma(q) - logGamma(p + q);
}

export interface TailPair {
  /** Lower tail, e.g. I_x(a, b) or P(a, x). */
  lower: number;
  /** Upper tail, 1 − lower, computed directly on the side where it is small (no cancellation). */
  upper: number;
}

const MAX_ITER = 100_000;

/**
 * Regularized incomplete beta I_x(a, b) and its complement. `y` must be 1 − x computed by the caller
 * without cancellation (e.g. t²/(ν+t²) rather than 1 − ν/(ν+t²)), because in the tails the answer is
 * governed by the smaller of x and y.
 */
export function incompleteBeta(a: number, b: number, x: number, y: number): TailPair {
  if (x <= 0) return { lower: 0, upper: 1 };
  if (y <= 0) return { lower: 1, upper: 0 };
  // The continued fraction converges quickly only for x < (a+1)/(a+b+2); otherwise evaluate the mirror
  // I_y(b, a) and complement it, which is the tail that is small there anyway.
  if (x > (a + 1) / (a + b + 2)) {
    const m = incompleteBetaCf(b, a, y, x);
    return { lower: 1 - m, upper: m };
  }
  const v = incompleteBetaCf(a, b, x, y);
  return { lower: v, upper: 1 - v };
}

function incompleteBetaCf(a: number, b: number, x: number, y: number): number {
  const lnx = x < 0.5 ? Math.log(x) : Math.log1p(-y);
  const lny = y < 0.5 ? Math.log(y) : Math.log1p(-x);
  const logFront = a * lnx + b * lny - logBeta(a, b) - Math.log(a);
  if (logFront < -745) return 0; // below the smallest subnormal
  const front = Math.exp(logFront);

  // Modified Lentz evaluation of the continued fraction (Numerical Recipes 3rd ed., §6.4).
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < FPMIN) d = FPMIN;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= MAX_ITER; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = 1 + aa / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return front * h;
  }
  throw new StatsNumericError(`incomplete beta did not converge (a=${a}, b=${b}, x=${x})`);
}

/**
 * Regularized incomplete gamma P(a, x) (lower) and Q(a, x) (upper), each computed directly on its own
 * side: the series for x < a + 1, the continued fraction above (Numerical Recipes §6.2).
 */
export function incompleteGamma(a: number, x: number): TailPair {
  if (x <= 0) return { lower: 0, upper: 1 };
  if (x === Infinity) return { lower: 1, upper: 0 };
  const logFront = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let ap = a;
    let del = 1 / a;
    let sum = del;
    for (let n = 0; n < MAX_ITER; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * EPS) {
        const lower = Math.exp(logFront) * sum;
        return { lower, upper: 1 - lower };
      }
    }
    throw new StatsNumericError(`incomplete gamma series did not converge (a=${a}, x=${x})`);
  }
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i <= MAX_ITER; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) {
      const upper = logFront < -745 ? 0 : Math.exp(logFront) * h;
      return { lower: 1 - upper, upper };
    }
  }
  throw new StatsNumericError(`incomplete gamma continued fraction did not converge (a=${a}, x=${x})`);
}
