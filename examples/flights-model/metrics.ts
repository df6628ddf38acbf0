import { z } from 'zod';

const rate = z.number().min(0).max(1);
export const classificationMetricsSchema = z.object({
  from: z.string(),
  to: z.string(),
  n: z.number().int().nonnegative(),
  /** Share of delayed flights: the accuracy of always answering "on time" is 1 − baseRate. */
  baseRate: rate,
  /** At the 0.5 threshold, the delayed class positive. */
  accuracy: rate,
  precision: rate,
  recall: rate,
  f1: rate,
  logLoss: z.number().nonnegative(),
  /** Ten bins of predicted probability: how many, the mean prediction, the observed delay rate. */
  calibration: z.array(
    z.object({
      from: z.number(),
      to: z.number(),
      n: z.number(),
      predicted: z.number(),
      observed: z.number(),
    }),
  ),
  /** The 15 busiest segments (origins), with the same figures. */
  segments: z.array(
    z.object({
      segment: z.string(),
      n: z.number(),
      accuracy: rate,
      logLoss: z.number(),
      observed: rate,
      predicted: rate,
    }),
  ),
});
export type ClassificationMetrics = z.infer<typeof classificationMetricsSchema>;

export interface Scored {
  /** Predicted probability of the positive class. */
  p: number;
  y: 0 | 1 | number;
  segment: string;
}

/** Probabilities are clipped here for log loss, as scikit-learn's log_loss does (1e-15). */
const EPS = 1e-15;
const logLossOf = (s: Scored): number => {
  const p = Math.min(1 - EPS, Math.max(EPS, s.p));
  return -(s.y * Math.log(p) + (1 - s.y) * Math.log(1 - p));
};
const round = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Accuracy, precision, recall, F1 (threshold 0.5), log loss, calibration and per-segment figures. */
export function classificationMetrics(
  scored: readonly Scored[],
  window: { from: string; to: string },
): ClassificationMetrics {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  let loss = 0;
  let positives = 0;
  const bins = Array.from({ length: 10 }, () => ({ n: 0, predicted: 0, observed: 0 }));
  const segments = new Map<
    string,
    { n: number; correct: number; loss: number; observed: number; predicted: number }
  >();
  for (const s of scored) {
    const call = s.p >= 0.5 ? 1 : 0;
    if (call && s.y) tp++;
    else if (call) fp++;
    else if (s.y) fn++;
    else tn++;
    const l = logLossOf(s);
    loss += l;
    positives += s.y;
    const bin = bins[Math.min(9, Math.floor(s.p * 10))]!;
    bin.n++;
    bin.predicted += s.p;
    bin.observed += s.y;
    const g = segments.get(s.segment) ?? { n: 0, correct: 0, loss: 0, observed: 0, predicted: 0 };
    g.n++;
    g.correct += call === s.y ? 1 : 0;
    g.loss += l;
    g.observed += s.y;
    g.predicted += s.p;
    segments.set(s.segment, g);
  }
  const n = scored.length;
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return {
    ...window,
    n,
    baseRate: round(n ? positives / n : 0),
    accuracy: round(n ? (tp + tn) / n : 0),
    precision: round(precision),
    recall: round(recall),
    f1: round(precision + recall ? (2 * precision * recall) / (precision + recall) : 0),
    logLoss: round(n ? loss / n : 0),
    calibration: bins.map((b, k) => ({
      from: k / 10,
      to: (k + 1) / 10,
      n: b.n,
      predicted: round(b.n ? b.predicted / b.n : 0),
      observed: round(b.n ? b.observed / b.n : 0),
    })),
    segments: [...segments]
      .sort(([a, x], [b, y]) => y.n - x.n || a.localeCompare(b))
      .slice(0, 15)
      .map(([segment, g]) => ({
        segment,
        n: g.n,
        accuracy: round(g.correct / g.n),
        logLoss: round(g.loss / g.n),
        observed: round(g.observed / g.n),
        predicted: round(g.predicted / g.n),
      })),
  };
}
