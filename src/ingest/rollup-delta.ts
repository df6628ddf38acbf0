import { addToHistogram, type Histogram } from './histogram.js';
import type { Prediction } from './records.js';

/** Sufficient statistics of one (model, rollout, version, role, metric, time bucket), as added by one batch. */
export interface RollupDelta {
  model: string;
  rolloutId: string;
  version: string;
  role: 'served' | 'shadow';
  metric: string;
  bucketStart: number;
  count: number;
  sum: number;
  sumSq: number;
  pairedCount: number;
  pairedSum: number;
  pairedSumSq: number;
  errorCount: number;
  min: number | null;
  max: number | null;
  histogram: Histogram;
}

/** Outcome metrics need the actual value; these are the ones computed from a prediction and its feedback. */
export function outcomeMetrics(
  prediction: Pick<Prediction, 'value' | 'prediction' | 'error'>,
  actual: unknown,
): Record<string, number> {
  if (prediction.error) return {};
  if (typeof actual === 'number' && prediction.value !== null) {
    const diff = prediction.value - actual;
    const out: Record<string, number> = { abs_error: Math.abs(diff), squared_error: diff * diff };
    // APE is undefined at a zero actual; leaving it out beats an Infinity that poisons the mean.
    if (actual !== 0) out.ape = Math.abs(diff) / Math.abs(actual);
    return out;
  }
  if (typeof actual === 'string' || typeof actual === 'boolean') {
    return { correct: String(prediction.prediction) === String(actual) ? 1 : 0 };
  }
  return {};
}

/** Accumulates deltas keyed by rollup key; `entries()` is sorted so concurrent upserts lock rows in one order. */
export class RollupAccumulator {
  private readonly deltas = new Map<string, RollupDelta>();
  constructor(private readonly bucketMs: number) {}

  private delta(
    p: Pick<Prediction, 'model' | 'rolloutId' | 'version' | 'role' | 'at'>,
    metric: string,
  ): RollupDelta {
    const bucketStart = Math.floor(p.at.getTime() / this.bucketMs) * this.bucketMs;
    const key = `${p.model}\u0000${p.rolloutId}\u0000${p.version}\u0000${p.role}\u0000${metric}\u0000${bucketStart}`;
    let d = this.deltas.get(key);
    if (!d) {
      d = {
        model: p.model,
        rolloutId: p.rolloutId,
        version: p.version,
        role: p.role,
        metric,
        bucketStart,
        count: 0,
        sum: 0,
        sumSq: 0,
        pairedCount: 0,
        pairedSum: 0,
        pairedSumSq: 0,
        errorCount: 0,
        min: null,
        max: null,
        histogram: {},
      };
      this.deltas.set(key, d);
    }
    return d;
  }

  addValue(
    p: Pick<Prediction, 'model' | 'rolloutId' | 'version' | 'role' | 'at'>,
    metric: string,
    value: number,
    histogram = false,
  ): void {
    const d = this.delta(p, metric);
    d.count += 1;
    d.sum += value;
    d.sumSq += value * value;
    d.min = d.min === null ? value : Math.min(d.min, value);
    d.max = d.max === null ? value : Math.max(d.max, value);
    if (histogram) addToHistogram(d.histogram, value);
  }

  addPaired(
    p: Pick<Prediction, 'model' | 'rolloutId' | 'version' | 'role' | 'at'>,
    metric: string,
    difference: number,
  ): void {
    const d = this.delta(p, metric);
    d.pairedCount += 1;
    d.pairedSum += difference;
    d.pairedSumSq += difference * difference;
  }

  /** What a prediction contributes on arrival: error rate, latency, recorded named metrics. */
  addPrediction(p: Prediction): void {
    this.addValue(p, 'error', p.error ? 1 : 0);
    if (p.error) this.delta(p, 'error').errorCount += 1;
    if (p.latencyMs !== null) this.addValue(p, 'latency_ms', p.latencyMs, true);
    if (p.metrics) for (const [name, value] of Object.entries(p.metrics)) this.addValue(p, name, value);
  }

  /** What a prediction contributes once its actual is known. */
  addOutcome(p: Prediction, actual: unknown): Record<string, number> {
    const metrics = outcomeMetrics(p, actual);
    for (const [name, value] of Object.entries(metrics)) this.addValue(p, name, value);
    return metrics;
  }

  get size(): number {
    return this.deltas.size;
  }

  entries(): RollupDelta[] {
    return [...this.deltas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
  }
}
