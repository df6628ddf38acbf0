/** One row of bench/results.json (DESIGN.md §8): a figure and the baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** What the value is compared with, e.g. "per-row INSERT" or "naive Welch at every peek". */
  baseline: string;
  baseline_value: number;
  /** value / baseline_value. */
  ratio: number;
  /** Free-form detail a reader needs to interpret the figure (sample sizes, seeds, targets). */
  notes?: string;
}

export function benchResult(
  name: string,
  value: number,
  unit: string,
  baseline: string,
  baselineValue: number,
  notes?: string,
): BenchResult {
  const ratio = baselineValue === 0 ? Number.NaN : value / baselineValue;
  return { name, value, unit, baseline, baseline_value: baselineValue, ratio, ...(notes ? { notes } : {}) };
}
