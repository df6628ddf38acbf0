import { quantileSorted } from 'simple-statistics';

/**
 * A numeric input's reference profile for drift checks (src/monitoring/drift.ts): its deciles and a
 * deterministic sample of up to 500 values, taken every step-th in time order so it spreads over the
 * whole training window.
 */
export function numericProfile(values: number[]): { deciles: number[]; sample: number[] } {
  const sorted = [...values].sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(values.length / 500));
  return {
    // Linear interpolation between order statistics (R type 7, NumPy's default: simple-statistics'
    // quantileSorted). With no values the deciles are NaN, as before (the artifact schema refuses them).
    deciles: [1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) =>
      sorted.length ? quantileSorted(sorted, k / 10) : Number.NaN,
    ),
    // Every step-th value in time order: deterministic, and spread over the whole window.
    sample: values.filter((_, i) => i % step === 0),
  };
}
