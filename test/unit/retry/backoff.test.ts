import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/retry/backoff.js';

const fixed = (r: number) => () => r;

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt up to maxMs; equal jitter spans [ceiling/2, ceiling)', () => {
    const opts = { baseMs: 100, maxMs: 5_000 };
    const low = [1, 2, 3, 4, 5, 6, 7, 20].map((a) => backoffDelay(a, { ...opts, random: fixed(0) }));
    const high = [1, 2, 3, 4, 5, 6, 7, 20].map((a) => backoffDelay(a, { ...opts, random: fixed(0.999999) }));
    expect(low).toEqual([50, 100, 200, 400, 800, 1600, 2500, 2500]);
    expect(high).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999]);
  });

  it('full jitter spans [0, ceiling)', () => {
    expect(backoffDelay(3, { baseMs: 100, maxMs: 5_000, jitter: 'full', random: fixed(0) })).toBe(0);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 5_000, jitter: 'full', random: fixed(0.5) })).toBe(200);
  });

  it('takes an attempt below 1 as the first, and a huge or non-finite one as the last', () => {
    const opts = { baseMs: 100, maxMs: 5_000, random: fixed(0) };
    expect(backoffDelay(0, opts)).toBe(50);
    expect(backoffDelay(-3, opts)).toBe(50);
    expect(backoffDelay(1e6, opts)).toBe(2500);
    expect(backoffDelay(Number.POSITIVE_INFINITY, opts)).toBe(2500);
    expect(backoffDelay(Number.NaN, opts)).toBe(2500);
  });

  it('spreads the retries of clients that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, { baseMs: 100, maxMs: 5_000 })));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => backoffDelay(1, { baseMs: -1, maxMs: 10 })).toThrow(RangeError);
    expect(() => backoffDelay(1, { baseMs: 100, maxMs: 10 })).toThrow(/baseMs <= maxMs/);
    expect(() => backoffDelay(1, { baseMs: 1, maxMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
  });

  it('is always a whole number of milliseconds within [ceiling/2, min(ceiling, maxMs)] (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10, max: 5_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.constantFrom('equal' as const, 'full' as const),
        (attempt, baseMs, extra, r, jitter) => {
          const maxMs = baseMs + extra;
          const d = backoffDelay(attempt, { baseMs, maxMs, jitter, random: () => r });
          const ceiling = Math.min(maxMs, baseMs * 2 ** (Math.min(Math.max(attempt, 1), 1024) - 1));
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(jitter === 'equal' ? Math.floor(ceiling / 2) : 0);
          expect(d).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });
});
