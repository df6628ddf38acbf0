import { MAX_DERIVED_MAGNITUDE } from './limits.js';
import type { Prediction } from './records.js';
import { SegmentAccumulator } from './segment-rollups.js';
import { addBinned, addCube, type BinnedValues } from './value-shape.js';

/**
 * Metrics whose per-request value is 0 or 1 (`error` for every prediction, `correct` from label feedback):
 * their mean is a rate, and a histogram of two values would say nothing that their count and sum do not,
 * so they get none. src/analysis/recorded-metrics.ts reads them as proportions.
 */
export const RATE_METRICS: ReadonlySet<string> = new Set(['error', 'correct']);

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
  /**
   * NaN when unknown: a partial sum passed MAX_SUM_CUBES (value-shape.ts). NaN rather than null keeps the
   * field a plain double, which V8 updates in place; a field that is sometimes null would box every write.
   */
  sumCubes: number;
  pairedCount: number;
  pairedSum: number;
  pairedSumSq: number;
  /** As sumCubes. */
  pairedSumCubes: number;
  errorCount: number;
  min: number | null;
  max: number | null;
  /** The values' histogram with per-bin moments; null for RATE_METRICS. */
  bins: BinnedValues | null;
}

const LOG_LOSS_EPS = 1e-15;

/** Outcome metrics need the actual value; these are the ones computed from a prediction and its feedback. */
export function outcomeMetrics(
  prediction: Pick<Prediction, 'value' | 'prediction' | 'error'>,
  actual: unknown,
): Record<string, number> {
  if (prediction.error) return {};
  if (typeof actual === 'number' && prediction.value !== null) {
    const diff = prediction.value - actual;
    const out: Record<string, number> = {};
    // A value no statistic could use (non-finite, or so large its sums of powers overflow) is left out, as
    // APE at a zero actual is: an Infinity or NaN in a rollup poisons every mean read from it afterwards.
    const put = (name: string, value: number): void => {
      if (Number.isFinite(value) && Math.abs(value) <= MAX_DERIVED_MAGNITUDE) out[name] = value;
    };
    put('abs_error', Math.abs(diff));
    put('squared_error', diff * diff);
    if (actual !== 0) put('ape', Math.abs(diff) / Math.abs(actual));
    return out;
  }
  if (typeof actual === 'string' || typeof actual === 'boolean') {
    const out: Record<string, number> = { correct: String(prediction.prediction) === String(actual) ? 1 : 0 };
    // A binary classifier's `value` is its probability of `true` (the record's `probability`): with a true/false outcome, that gives the
    // log loss of the prediction (clipped at 1e-15 as scikit-learn's log_loss is, so a certain miss is
    // finite).
    const p = prediction.value;
    if (
      typeof actual === 'boolean' &&
      typeof prediction.prediction === 'boolean' &&
      p !== null &&
      p >= 0 &&
      p <= 1
    ) {
      const q = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, actual ? p : 1 - p));
      out.log_loss = -Math.log(q);
    }
    return out;
  }
  return {};
}

/** What locates a record's rollup rows; `segment` adds its per-segment rows (segment-rollups.ts). */
type RollupKey = Pick<Prediction, 'model' | 'rolloutId' | 'version' | 'role' | 'at'> & {
  segment?: string | null;
};

/** Accumulates deltas keyed by rollup key; `entries()` is sorted so concurrent upserts lock rows in one order. */
export class RollupAccumulator {
  /** The per-segment sums of the records that name a segment. */
  readonly segments = new SegmentAccumulator();
  // Two levels (group of model/rollout/version/role/bucket, then metric) so the string key of a record is
  // built once, not once per metric: this runs for every ingested record.
  private readonly groups = new Map<string, Map<string, RollupDelta>>();
  private lastGroupKey = '';
  private lastGroup: Map<string, RollupDelta> | undefined;
  constructor(private readonly bucketMs: number) {}

  private group(p: Pick<Prediction, 'model' | 'rolloutId' | 'version' | 'role' | 'at'>): {
    key: string;
    group: Map<string, RollupDelta>;
    bucketStart: number;
  } {
    const bucketStart = Math.floor(p.at.getTime() / this.bucketMs) * this.bucketMs;
    const key = `${p.model}\u0000${p.rolloutId}\u0000${p.version}\u0000${p.role}\u0000${bucketStart}`;
    if (key === this.lastGroupKey && this.lastGroup) return { key, group: this.lastGroup, bucketStart };
    let group = this.groups.get(key);
    if (!group) {
      group = new Map();
      this.groups.set(key, group);
    }
    this.lastGroupKey = key;
    this.lastGroup = group;
    return { key, group, bucketStart };
  }

  private delta(
    p: Pick<Prediction, 'model' | 'rolloutId' | 'version' | 'role' | 'at'>,
    metric: string,
  ): RollupDelta {
    const { group, bucketStart } = this.group(p);
    return this.deltaIn(group, p, metric, bucketStart);
  }

  private deltaIn(
    group: Map<string, RollupDelta>,
    p: Pick<Prediction, 'model' | 'rolloutId' | 'version' | 'role'>,
    metric: string,
    bucketStart: number,
  ): RollupDelta {
    let d = group.get(metric);
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
        sumCubes: 0,
        pairedCount: 0,
        pairedSum: 0,
        pairedSumSq: 0,
        pairedSumCubes: 0,
        errorCount: 0,
        min: null,
        max: null,
        bins: RATE_METRICS.has(metric) ? null : new Map(),
      };
      group.set(metric, d);
    }
    return d;
  }

  private static add(d: RollupDelta, value: number): void {
    const sq = value * value;
    d.count += 1;
    d.sum += value;
    d.sumSq += sq;
    d.sumCubes = addCube(d.sumCubes, sq * value);
    if (d.min === null || value < d.min) d.min = value;
    if (d.max === null || value > d.max) d.max = value;
    if (d.bins !== null) addBinned(d.bins, value);
  }

  addValue(p: RollupKey, metric: string, value: number): void {
    const d = this.delta(p, metric);
    RollupAccumulator.add(d, value);
    if (p.segment) this.segments.add(p, metric, d.bucketStart, value);
  }

  addPaired(p: RollupKey, metric: string, difference: number): void {
    const d = this.delta(p, metric);
    const sq = difference * difference;
    d.pairedCount += 1;
    d.pairedSum += difference;
    d.pairedSumSq += sq;
    d.pairedSumCubes = addCube(d.pairedSumCubes, sq * difference);
    if (p.segment) this.segments.addPaired(p, metric, d.bucketStart, difference);
  }

  /** What a prediction contributes on arrival: error rate, latency, recorded named metrics. */
  addPrediction(p: Prediction): void {
    const { group, bucketStart } = this.group(p);
    const errors = this.deltaIn(group, p, 'error', bucketStart);
    RollupAccumulator.add(errors, p.error ? 1 : 0);
    if (p.error) errors.errorCount += 1;
    if (p.latencyMs !== null)
      RollupAccumulator.add(this.deltaIn(group, p, 'latency_ms', bucketStart), p.latencyMs);
    if (p.metrics) {
      for (const [name, value] of Object.entries(p.metrics))
        RollupAccumulator.add(this.deltaIn(group, p, name, bucketStart), value);
    }
    if (p.segment !== null && p.metrics) this.addSegmentPrediction(p, bucketStart);
  }

  /**
   * Per segment, only what a primary metric can be: named metrics here, outcome metrics with feedback. The
   * error rate and latency, which every prediction carries, are guardrails, judged pooled; kept per segment
   * they were most of the segment rows a batch wrote, and cost a fifth of the ingest rate of a replay with
   * 300 segments.
   */
  private addSegmentPrediction(p: Prediction, bucketStart: number): void {
    if (p.metrics)
      for (const [name, value] of Object.entries(p.metrics)) this.segments.add(p, name, bucketStart, value);
  }

  /** What a prediction contributes once its actual is known. */
  addOutcome(p: Prediction, actual: unknown): Record<string, number> {
    const metrics = outcomeMetrics(p, actual);
    for (const [name, value] of Object.entries(metrics)) this.addValue(p, name, value);
    return metrics;
  }

  get size(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.size;
    return n;
  }

  entries(): RollupDelta[] {
    const out: Array<[string, RollupDelta]> = [];
    for (const [groupKey, group] of this.groups)
      for (const [metric, d] of group) out.push([`${groupKey}\u0000${metric}`, d]);
    return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
  }
}
