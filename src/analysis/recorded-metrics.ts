import { RATE_METRICS } from '../ingest/rollup-delta.js';

/**
 * What the analysis knows about the metrics Arena records (src/ingest/rollup-delta.ts), in one place each:
 * which are proportions, which one counts requests, and how a quantile of a metric is named.
 */

/**
 * Metrics whose per-request value is 0 or 1 (`error`: the request failed; `correct`: the prediction
 * matched its outcome), so their mean is a rate: the recorder's RATE_METRICS, which it keeps without a
 * histogram. The gate gets them as successes out of n, and tests their limits with score tests for
 * proportions, which stay valid near a rate of 0 where a test on the mean and variance of 0/1 values
 * does not.
 */
export const PROPORTION_METRICS: ReadonlySet<string> = RATE_METRICS;

/**
 * `error` is recorded once for every served request (0 or 1) as the request arrives, whether it failed
 * or not, while outcome metrics wait for feedback and latency or named metrics may be absent: so its
 * count is the number of requests, the figure samples and the sample-ratio check are built on.
 */
export const REQUEST_COUNT_METRIC = 'error';

/** Requests a version served over a window, from its figures by metric (0 when nothing was recorded). */
export function requestCount(figures: Readonly<Record<string, { summary: { n: number } }>>): number {
  return figures[REQUEST_COUNT_METRIC]?.summary.n ?? 0;
}

/** The gate's name for a quantile of a metric (`latency_ms@q0.95`), as evidence and guardrails key it. */
export function quantileMetricName(metric: string, quantile: number): string {
  return `${metric}@q${quantile}`;
}

/** The gate's name for what a guardrail checks: the metric itself, or the quantile it names. */
export function guardrailMetricName(g: { metric: string; quantile?: number | undefined }): string {
  return g.quantile !== undefined ? quantileMetricName(g.metric, g.quantile) : g.metric;
}
