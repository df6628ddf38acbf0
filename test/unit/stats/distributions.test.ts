import { describe, expect, it } from 'vitest';
import {
  StatsInputError,
  chiSquareCdf,
  chiSquareSf,
  kolmogorovSf,
  normalCdf,
  normalQuantile,
  normalSf,
  studentTCdf,
  studentTQuantile,
  studentTSf,
} from '../../../src/stats/index.js';
import { logBeta, logGamma } from '../../../src/stats/special.js';
import { DIST_TOL, expectClose } from './helpers.js';

describe('special functions', () => {
  it('logGamma matches factorials and Γ(½) = √π', () => {
    let f = 1;
    for (let n = 1; n <= 30; n++) {
      expectClose(logGamma(n + 1), Math.log((f *= n)), 1e-13, `lnΓ(${n + 1})`);
    }
    expectClose(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14, 'lnΓ(½)');
    expectClose(logGamma(1e-8), -Math.log(1e-8) - 0.5772156649015329e-8, 1e-12, 'lnΓ near 0');
  });

  it('logBeta stays accurate for huge arguments (where lnΓ differences cancel)', () => {
    // B(a, ½) = Γ(a)Γ(½)/Γ(a+½) = √(π/a)·(1 + 1/(8a) + O(a⁻²)).
    const a = 5e7;
    expectClose(logBeta(a, 0.5), 0.5 * Math.log(Math.PI / a) + Math.log1p(1 / (8 * a)), 1e-14, 'lnB(5e7, ½)');
    expectClose(logBeta(3, 4), Math.log(1 / 60), 1e-14, 'lnB(3, 4)');
  });
});

describe('normal distribution', () => {
  it('is symmetric and its tails do not cancel', () => {
    for (const z of [0.1, 0.6744, 1, 2.5, 5, 8, 20]) {
      expect(normalCdf(-z)).toBe(normalSf(z));
      expectClose(normalCdf(z) + normalCdf(-z), 1, 1e-15, `Φ(${z}) + Φ(−${z})`);
    }
    // Φ(−10) = 7.61985302416047e-24 (Abramowitz & Stegun / SciPy): an erf-based 1 − Φ would give 0.
    expectClose(normalCdf(-10), 7.619853024160527e-24, 1e-12, 'Φ(−10)');
    expectClose(normalSf(37), 5.725571222524e-300, 1e-9, 'Q(37)');
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
  });

  it('quantile inverts the CDF, including the far tails', () => {
    for (const p of [1e-300, 1e-100, 1e-20, 1e-10, 1e-4, 0.01, 0.2, 0.4999, 0.5001, 0.7, 0.99, 1 - 1e-10]) {
      const q = normalQuantile(p);
      const back = p < 0.5 ? normalCdf(q) : normalSf(q);
      expectClose(back, p < 0.5 ? p : 1 - p, 1e-12, `Φ(Φ⁻¹(${p}))`);
    }
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
  });

  it('rejects p outside [0, 1] and NaN with a typed error naming p', () => {
    for (const p of [-0.1, 1.5, Number.NaN]) {
      expect(() => normalQuantile(p)).toThrow(StatsInputError);
      try {
        normalQuantile(p);
      } catch (e) {
        expect((e as StatsInputError).field).toBe('p');
      }
    }
    expect(() => normalCdf(Number.NaN)).toThrow(StatsInputError);
  });
});

describe("Student's t distribution", () => {
  it('df = 1 is Cauchy and df = 2 has a closed form', () => {
    // Lower tails written without the cancellation of ½ + (something close to −½).
    for (const t of [-1e6, -50, -3, -0.5]) {
      const r = Math.sqrt(2 + t * t);
      expectClose(studentTCdf(t, 1), Math.atan(-1 / t) / Math.PI, 1e-13, `Cauchy(${t})`);
      expectClose(studentTCdf(t, 2), 1 / (r * (r - t)), 1e-13, `t₂(${t})`);
      expectClose(studentTSf(-t, 2), 1 / (r * (r - t)), 1e-13, `t₂ sf(${-t})`);
    }
  });

  it('converges to the normal for huge df without losing accuracy', () => {
    expectClose(studentTCdf(-2, 1e9), normalCdf(-2), 1e-7, 't(1e9) ≈ Φ');
    expect(studentTCdf(1.3, Infinity)).toBe(normalCdf(1.3));
    expect(studentTQuantile(0.9, Infinity)).toBe(normalQuantile(0.9));
  });

  it('quantile inverts the CDF for fractional and tiny df and far tails', () => {
    for (const df of [0.3, 1, 1.5, 2, 2.5, 3, 7.7, 30, 604.6, 1e5]) {
      for (const p of [1e-12, 1e-6, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999999]) {
        const q = studentTQuantile(p, df);
        const back = p < 0.5 ? studentTCdf(q, df) : studentTSf(q, df);
        expectClose(back, p < 0.5 ? p : 1 - p, DIST_TOL, `t.cdf(t.ppf(${p}, ${df}))`);
      }
    }
  });

  it('handles infinite t, p = 0/1 and rejects bad df and p', () => {
    expect(studentTCdf(Infinity, 4)).toBe(1);
    expect(studentTCdf(-Infinity, 4)).toBe(0);
    expect(studentTQuantile(0, 4)).toBe(-Infinity);
    expect(studentTQuantile(1, 4)).toBe(Infinity);
    expect(() => studentTCdf(1, 0)).toThrow(StatsInputError);
    expect(() => studentTCdf(1, -2)).toThrow(StatsInputError);
    expect(() => studentTCdf(1, Number.NaN)).toThrow(StatsInputError);
    expect(() => studentTQuantile(1.01, 4)).toThrow(StatsInputError);
    expect(() => studentTQuantile(Number.NaN, 4)).toThrow(StatsInputError);
  });
});

describe('chi-square and Kolmogorov distributions', () => {
  it('chi-square with 1 and 2 df has closed forms; CDF + SF = 1', () => {
    for (const x of [0.01, 0.5, 3.84, 10, 60]) {
      // χ²₂ is exponential with mean 2; χ²₁ tail is 2·Q(√x).
      expectClose(chiSquareSf(x, 2), Math.exp(-x / 2), 1e-13, `χ²₂ sf(${x})`);
      expectClose(chiSquareSf(x, 1), 2 * normalSf(Math.sqrt(x)), 1e-12, `χ²₁ sf(${x})`);
      expectClose(chiSquareCdf(x, 5) + chiSquareSf(x, 5), 1, 1e-15, `χ²₅ cdf+sf(${x})`);
    }
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(() => chiSquareSf(1, 0)).toThrow(StatsInputError);
  });

  it('Kolmogorov survival function is continuous across its two series', () => {
    expectClose(kolmogorovSf(1 - 1e-12), kolmogorovSf(1 + 1e-12), 1e-10, 'at x = 1');
    expect(kolmogorovSf(0)).toBe(1);
    expect(kolmogorovSf(0.1)).toBe(1);
    // Known value: P(K > 1.3581) ≈ 0.05 (the 5% critical value).
    expectClose(kolmogorovSf(1.3580986393225505), 0.05, 1e-9, 'K 5% point');
  });
});
