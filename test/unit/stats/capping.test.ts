import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { capAtQuantile, cappedSummary } from '../../../src/stats/capping.js';
import { momentBinsOf } from '../../support/moment-bins.js';
import { summarize } from '../../../src/stats/summary.js';
import { quantileSorted } from 'simple-statistics';

const close = (a: number, b: number, rel: number): boolean =>
  Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

describe('capping from bin sums', () => {
  it('equals the exact capped moments of the raw values at any bin edge (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -5, max: 1e6, noNaN: true }), { minLength: 3, maxLength: 300 }),
        fc.double({ min: 0.01, max: 0.999, noNaN: true }),
        (values, q) => {
          const bins = momentBinsOf(values);
          const cap = capAtQuantile(bins, q)!;
          const exact = summarize(values.map((v) => Math.min(v, cap)));
          const capped = cappedSummary(bins, cap);
          expect(capped.n).toBe(exact.n);
          expect(close(capped.mean, exact.mean, 1e-9)).toBe(true);
          // Raw-moment sums lose digits next to Welford's; the tolerance is relative to the second moment.
          const m2 = exact.variance + exact.mean * exact.mean;
          expect(Math.abs(capped.variance - exact.variance)).toBeLessThanOrEqual(1e-7 * Math.max(1, m2));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('puts the cap at the upper edge of the bin holding the quantile: at most one bin (1%) above it', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => Math.exp(i / 1000));
    const bins = momentBinsOf(values);
    const cap = capAtQuantile(bins, 0.999)!;
    const exact = quantileSorted(values, 0.999);
    expect(cap).toBeGreaterThanOrEqual(values[Math.floor(0.999 * 9999)]!);
    expect(cap / exact).toBeLessThan(1.011);
    // The capped values' skewness is far below the raw values'.
    expect(cappedSummary(bins, cap).skewness!).toBeLessThanOrEqual(summarize(values).skewness!);
    expect(capAtQuantile([], 0.5)).toBeUndefined();
  });

  it('refuses a cap inside a bin, and leaves values below the cap as they are', () => {
    const bins = momentBinsOf([1, 2, 3, 50, 100]);
    const inside = bins.find((b) => b.lower < 50 && 50 <= b.upper)!;
    expect(() => cappedSummary(bins, (inside.lower + inside.upper) / 2)).toThrow(/falls inside the bin/);
    const uncapped = cappedSummary(bins, 1e9);
    const raw = summarize([1, 2, 3, 50, 100]);
    expect(uncapped.mean).toBeCloseTo(raw.mean, 12);
    expect(uncapped.variance).toBeCloseTo(raw.variance, 9);
    expect(uncapped.skewness).toBeCloseTo(raw.skewness!, 9);
  });
});
