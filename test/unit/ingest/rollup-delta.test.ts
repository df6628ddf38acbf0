import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  binOf,
  mergeHistograms,
  type Histogram,
  type HistogramMoments,
} from '../../../src/ingest/histogram.js';
import type { Prediction } from '../../../src/ingest/records.js';
import { outcomeMetrics, RollupAccumulator, type RollupDelta } from '../../../src/ingest/rollup-delta.js';
import { histogramOf, momentsOf } from '../../../src/ingest/value-shape.js';

const AT = new Date('2026-11-01T12:00:30Z');

function prediction(i: number, over: Partial<Prediction> = {}): Prediction {
  return {
    requestId: `r${i}`,
    unitId: null,
    model: 'm',
    version: '1.0.0',
    role: 'served',
    value: 10,
    prediction: 10,
    latencyMs: null,
    error: false,
    errorCode: null,
    metrics: null,
    featuresHash: null,
    features: null,
    rolloutId: '',
    segment: null,
    at: AT,
    ...over,
  };
}

function deltaOf(acc: RollupAccumulator, metric: string): RollupDelta {
  const d = acc.entries().find((e) => e.metric === metric);
  if (!d) throw new Error(`no delta for ${metric}`);
  return d;
}

/** The shape of the values as the accumulator should keep it, computed directly. */
function direct(values: readonly number[]) {
  const histogram: Histogram = {};
  const moments: HistogramMoments = {};
  let sumCubes = 0;
  for (const v of values) {
    const bin = binOf(v);
    histogram[bin] = (histogram[bin] ?? 0) + 1;
    const m = (moments[bin] ??= [0, 0, 0]);
    m[0] += v;
    m[1] += v * v;
    m[2] += v * v * v;
    sumCubes += v * v * v;
  }
  return { histogram, moments, sumCubes };
}

/** Relative closeness of two sums of floats added in possibly different orders. */
function expectClose(actual: number, expected: number, scale: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, scale));
}

function expectMomentsClose(actual: HistogramMoments | undefined, expected: HistogramMoments): void {
  expect(actual).toBeDefined();
  expect(Object.keys(actual!).sort()).toEqual(Object.keys(expected).sort());
  for (const [bin, [s1, s2, s3]] of Object.entries(expected)) {
    const [a1, a2, a3] = actual![bin]!;
    expectClose(a1, s1, Math.abs(s1));
    expectClose(a2, s2, Math.abs(s2));
    expectClose(a3, s3, Math.abs(s3));
  }
}

/** Continuous values across the bins a metric can reach: zero bin, negatives, sub-unit, large. */
const value = fc.oneof(
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: 0, max: 1e-3, noNaN: true }),
  fc.double({ min: 1, max: 500, noNaN: true }),
);

describe('RollupAccumulator: the shape of the values', () => {
  it('keeps sums of cubes and per-bin moments equal to a direct computation', () => {
    const latencies = [0, 0.0005, 0.3, 1, 12.5, 12.51, 40, 41, 41.2, 900, 12_000];
    const revenue = [-50, -0.5, 0, 3, 3.01, 250, 1e6];
    const acc = new RollupAccumulator(60_000);
    latencies.forEach((latencyMs, i) =>
      acc.addPrediction(prediction(i, { latencyMs, metrics: { revenue: revenue[i % revenue.length]! } })),
    );
    const usedRevenue = latencies.map((_, i) => revenue[i % revenue.length]!);

    for (const [metric, values] of [
      ['latency_ms', latencies],
      ['revenue', usedRevenue],
    ] as const) {
      const d = deltaOf(acc, metric);
      const want = direct(values);
      expect(d.count).toBe(values.length);
      expectClose(d.sumCubes, want.sumCubes, Math.abs(want.sumCubes));
      expect(histogramOf(d.bins!)).toEqual(want.histogram);
      expectMomentsClose(momentsOf(d.bins!), want.moments);
    }
  });

  it('derives a binary classifier’s log loss from its probability of true and a true/false outcome', () => {
    const lossOf = (value: number | null, label: unknown, actual: unknown) =>
      outcomeMetrics({ value, prediction: label, error: false }, actual);
    expect(lossOf(0.8, true, true)).toEqual({ correct: 1, log_loss: -Math.log(0.8) });
    expect(lossOf(0.8, true, false).log_loss).toBeCloseTo(-Math.log(0.2), 12);
    expect(lossOf(0.8, true, false).correct).toBe(0);
    // Clipped as scikit-learn's log_loss: a certain miss is finite.
    expect(lossOf(1, true, false).log_loss).toBeCloseTo(-Math.log(1e-15), 6);
    // No probability, one outside [0, 1], or a label outcome that is not true/false: no log loss.
    expect(lossOf(null, true, true)).toEqual({ correct: 1 });
    expect(lossOf(3, 'cat', 'cat')).toEqual({ correct: 1 });
    expect(lossOf(0.5, 'true', true)).toEqual({ correct: 1 });
    expect(lossOf(1.5, true, true)).toEqual({ correct: 1 });
  });

  it('keeps a histogram for every continuous outcome metric, and none for the 0/1 metrics', () => {
    const acc = new RollupAccumulator(60_000);
    acc.addPrediction(prediction(1, { latencyMs: 20, error: false }));
    acc.addPrediction(prediction(2, { latencyMs: 25, error: true, value: null }));
    acc.addOutcome(prediction(1, { value: 12 }), 10);
    acc.addOutcome(prediction(3, { value: null, prediction: 'cat' }), 'cat');

    expect(deltaOf(acc, 'error').bins).toBeNull();
    expect(deltaOf(acc, 'correct').bins).toBeNull();
    expect(deltaOf(acc, 'error').sumCubes).toBe(1);
    for (const [metric, v] of [
      ['abs_error', 2],
      ['squared_error', 4],
      ['ape', 0.2],
    ] as const) {
      const d = deltaOf(acc, metric);
      expect(histogramOf(d.bins!)).toEqual({ [binOf(v)]: 1 });
      expectMomentsClose(momentsOf(d.bins!), { [binOf(v)]: [v, v * v, v * v * v] });
    }
    expect(histogramOf(deltaOf(acc, 'latency_ms').bins!)).toEqual({ [binOf(20)]: 1, [binOf(25)]: 1 });
  });

  it('keeps the paired sum of cubes of the differences', () => {
    const acc = new RollupAccumulator(60_000);
    const diffs = [-3, 0.5, 2, 7.25];
    for (const d of diffs) acc.addPaired(prediction(0, { role: 'shadow' }), 'abs_error', d);
    const d = deltaOf(acc, 'abs_error');
    expect(d.pairedCount).toBe(4);
    expect(d.pairedSumCubes).toBeCloseTo(direct(diffs).sumCubes, 9);
    expect(d.count).toBe(0);
    expect(d.bins!.size).toBe(0);
  });

  it('merging two halves of a batch gives the moments of the whole', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 60 }), fc.nat(), (values, cut) => {
        const split = cut % (values.length + 1);
        const whole = new RollupAccumulator(60_000);
        const parts = [new RollupAccumulator(60_000), new RollupAccumulator(60_000)];
        values.forEach((v, i) => {
          const p = prediction(i, { metrics: { revenue: v } });
          whole.addPrediction(p);
          parts[i < split ? 0 : 1]!.addPrediction(p);
        });
        const w = deltaOf(whole, 'revenue');
        const halves = parts.flatMap((a) => a.entries().filter((e) => e.metric === 'revenue'));
        // What the upsert does: add counts, sums and per-bin moments.
        const histogram = halves.reduce<Histogram>((h, d) => mergeHistograms(h, histogramOf(d.bins!)), {});
        const moments: HistogramMoments = {};
        for (const d of halves)
          for (const [bin, [a, b, c]] of Object.entries(momentsOf(d.bins!)!)) {
            const m = (moments[bin] ??= [0, 0, 0]);
            m[0] += a;
            m[1] += b;
            m[2] += c;
          }
        const sumCubes = halves.reduce((s, d) => s + d.sumCubes, 0);
        expect(halves.reduce((n, d) => n + d.count, 0)).toBe(w.count);
        expect(histogram).toEqual(histogramOf(w.bins!));
        expectMomentsClose(moments, momentsOf(w.bins!)!);
        const scale = values.reduce((s, v) => s + Math.abs(v) ** 3, 0);
        expectClose(sumCubes, w.sumCubes, scale);
      }),
    );
  });

  it('makes sums of cubes unknown, never Infinity or NaN in a sum, once they would pass the bound', () => {
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 20 }),
        // Each cube is at least 8e300 in magnitude (derived outcome metrics reach 1e110).
        fc.array(fc.double({ min: 2e100, max: 1e110, noNaN: true }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (ordinary, huge, negative) => {
          const acc = new RollupAccumulator(60_000);
          const all = [...ordinary, ...huge.map((h) => (negative ? -h : h))];
          all.forEach((v, i) => acc.addValue(prediction(i), 'squared_error', v));
          acc.addPaired(prediction(0), 'squared_error', all[all.length - 1]!);
          const d = deltaOf(acc, 'squared_error');
          expect(d.sumCubes).toBeNaN();
          expect(d.pairedSumCubes).toBeNaN();
          expect(momentsOf(d.bins!)).toBeUndefined();
          // What every other statistic needs stays finite, and the histogram counts every value.
          expect(Number.isFinite(d.sum) && Number.isFinite(d.sumSq)).toBe(true);
          expect(Object.values(histogramOf(d.bins!)).reduce((a, b) => a + b, 0)).toBe(all.length);
        },
      ),
    );
  });

  it('keeps sums of cubes just within the bound, and loses them for good once past it', () => {
    const acc = new RollupAccumulator(60_000);
    acc.addValue(prediction(0), 'squared_error', 4e99);
    acc.addValue(prediction(1), 'squared_error', 5e99);
    expect(deltaOf(acc, 'squared_error').sumCubes).toBeCloseTo(1.89e299, -287);
    expect(momentsOf(deltaOf(acc, 'squared_error').bins!)).toBeDefined();
    acc.addValue(prediction(2), 'squared_error', 1e110);
    acc.addValue(prediction(3), 'squared_error', -1e110);
    acc.addValue(prediction(4), 'squared_error', 1);
    const d = deltaOf(acc, 'squared_error');
    expect(d.sumCubes).toBeNaN();
    expect(momentsOf(d.bins!)).toBeUndefined();
    expect(d.count).toBe(5);
  });
});
