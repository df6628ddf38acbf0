import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addCumulativeBuckets, bucketQuantile } from '../../../src/stats/bucket-quantile.js';
import { StatsInputError } from '../../../src/stats/errors.js';

const h = (pairs: Array<[number, number]>) => pairs.map(([le, count]) => ({ le, count }));

describe('bucketQuantile (PromQL histogram_quantile)', () => {
  it('interpolates inside the bucket that holds the rank, from 0 in the first', () => {
    // 100 observations: 50 ≤ 0.1, 90 ≤ 0.2, 100 ≤ 0.5.
    const b = h([
      [0.1, 50],
      [0.2, 90],
      [0.5, 100],
      [Infinity, 100],
    ]);
    expect(bucketQuantile(0.5, b)).toBeCloseTo(0.1, 12); // rank 50: the top of the first bucket
    expect(bucketQuantile(0.25, b)).toBeCloseTo(0.05, 12); // rank 25 of 50 in [0, 0.1]
    expect(bucketQuantile(0.7, b)).toBeCloseTo(0.15, 12); // rank 70: 20 of 40 in (0.1, 0.2]
    expect(bucketQuantile(0.95, b)).toBeCloseTo(0.35, 12); // rank 95: 5 of 10 in (0.2, 0.5]
  });

  it('answers the highest finite bound for a rank in +Inf, and nothing without +Inf or observations', () => {
    expect(
      bucketQuantile(
        0.99,
        h([
          [1, 10],
          [Infinity, 20],
        ]),
      ),
    ).toBe(1);
    expect(bucketQuantile(0.5, h([[1, 10]]))).toBeUndefined();
    expect(
      bucketQuantile(
        0.5,
        h([
          [1, 10],
          [2, 10],
        ]),
      ),
    ).toBeUndefined();
    expect(
      bucketQuantile(
        0.5,
        h([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeUndefined();
  });

  it('reads unordered and non-monotonic counts as PromQL does (sorted, raised to the running maximum)', () => {
    const messy = h([
      [Infinity, 100],
      [0.2, 88],
      [0.1, 90],
    ]);
    // 0.2's count is raised to 90: rank 50 lies in (0, 0.1].
    expect(bucketQuantile(0.5, messy)).toBeCloseTo((0.1 * 50) / 90, 12);
  });

  it('refuses a quantile outside (0, 1) or a count that is not one, naming it', () => {
    expect(() => bucketQuantile(1, h([[Infinity, 1]]))).toThrow(StatsInputError);
    expect(() =>
      bucketQuantile(
        0.5,
        h([
          [1, Number.NaN],
          [Infinity, 1],
        ]),
      ),
    ).toThrow(/buckets\[0\]\.count/);
  });

  it('is monotone in q and stays within the buckets’ bounds', () => {
    const histogram = fc
      .array(fc.tuple(fc.double({ min: 0.001, max: 1000, noNaN: true }), fc.nat(10_000)), {
        minLength: 1,
        maxLength: 12,
      })
      .map((raw) => {
        let total = 0;
        const bounds = [...new Set(raw.map(([le]) => le))].sort((a, b) => a - b);
        const b = bounds.map((le, i) => ({ le, count: (total += raw[i]?.[1] ?? 0) }));
        return [...b, { le: Infinity, count: total + 1 }];
      });
    fc.assert(
      fc.property(histogram, fc.double({ min: 0.01, max: 0.98, noNaN: true }), (b, q) => {
        const lo = bucketQuantile(q, b)!;
        const hi = bucketQuantile(q + 0.01, b)!;
        expect(hi).toBeGreaterThanOrEqual(lo - 1e-9);
        expect(lo).toBeGreaterThanOrEqual(0);
        expect(lo).toBeLessThanOrEqual(b[b.length - 2]?.le ?? 0);
      }),
    );
  });
});

describe('addCumulativeBuckets', () => {
  it('adds histograms bound by bound, reading a missing bound at the next lower one', () => {
    expect(
      addCumulativeBuckets([
        h([
          [0.1, 5],
          [0.5, 8],
          [Infinity, 10],
        ]),
        h([
          [0.1, 1],
          [0.2, 2],
          [Infinity, 4],
        ]),
      ]),
    ).toEqual(
      h([
        [0.1, 6],
        [0.2, 7],
        [0.5, 10],
        [Infinity, 14],
      ]),
    );
  });
});
