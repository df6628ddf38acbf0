import { sum } from 'simple-statistics';
import { histogramQuantile, type Histogram } from '../ingest/histogram.js';
import {
  paired,
  quantiles,
  stratified,
  type ArmData,
  type ArmPair,
  type MetricEvidence,
  type QuantileObservation,
  type SrmInput,
} from '../stats/gate/index.js';
import { addCumulativeBuckets, bucketQuantile } from '../stats/bucket-quantile.js';
import type { SourceFigures } from './metric-source.js';
import type { Period } from './periods.js';
import { PROPORTION_METRICS, quantileMetricName, requestCount } from './recorded-metrics.js';

/** What the gate (src/stats/gate/) is given, built from the periods' figures; pure. */
export interface Evidence {
  metrics: Record<string, MetricEvidence>;
  srm: SrmInput[];
  /** Every metric either arm recorded in any period: guardrails on others are skipped. */
  recorded: Set<string>;
}

/** The quantile guardrails of a policy: the only thing evidence needs from it. */
export type QuantileGuardrail = { metric: string; quantile?: number | undefined };

export function buildEvidence(
  periods: readonly Period[],
  guardrails: readonly QuantileGuardrail[],
): Evidence {
  const recorded = recordedMetrics(periods);
  const metrics: Record<string, MetricEvidence> = {};
  for (const name of recorded) {
    // A histogram read from Prometheus has buckets, not per-request moments: only its quantile is compared.
    if (periods.some((p) => p.champion.figures[name]?.buckets ?? p.challenger.figures[name]?.buckets))
      continue;
    const evidence = metricEvidence(periods, name);
    if (evidence) metrics[name] = evidence;
  }
  // Quantile guardrails compare the observed quantile of the merged histograms (descriptive, see src/stats/gate/guardrail-quantile.ts).
  for (const g of guardrails) {
    if (g.quantile === undefined) continue;
    const c = mergedQuantile(periods, 'champion', g.metric, g.quantile);
    const t = mergedQuantile(periods, 'challenger', g.metric, g.quantile);
    if (c && t) metrics[quantileMetricName(g.metric, g.quantile)] = quantiles(g.quantile, c, t);
  }
  return { metrics, srm: srmInputs(periods), recorded };
}

export function recordedMetrics(periods: readonly Period[]): Set<string> {
  const recorded = new Set<string>();
  for (const p of periods)
    for (const arm of [p.champion, p.challenger])
      for (const name of Object.keys(arm.figures)) recorded.add(name);
  return recorded;
}

/**
 * Paired when a shadow period holds differences for the metric (they measure the same requests, so they
 * beat any independent comparison); otherwise one stratum per period in which both arms recorded it.
 */
function metricEvidence(periods: readonly Period[], name: string): MetricEvidence | undefined {
  const shadow = periods.find((p) => p.paired);
  const c = shadow?.champion.figures[name];
  const t = shadow?.challenger.figures[name];
  if (c && t?.paired && t.paired.n > 0) return paired(t.paired, c.summary, t.summary);
  const strata: ArmPair[] = [];
  for (const p of periods) {
    const c = p.champion.figures[name];
    const t = p.challenger.figures[name];
    if (c && t) strata.push({ champion: armData(name, c), challenger: armData(name, t) });
  }
  return strata.length ? stratified(strata) : undefined;
}

/** An arm's figures as the gate takes them: counts for a proportion, the summary otherwise. */
export function armData(metric: string, f: SourceFigures): ArmData {
  const s = f.summary;
  if (f.rate) return { successes: Math.round(f.rate.events), n: Math.round(f.rate.total) };
  return PROPORTION_METRICS.has(metric) ? { successes: Math.round(s.mean * s.n), n: s.n } : s;
}

/**
 * One side's histograms of a metric merged over every period, and their quantile: Arena's log-bucket
 * histograms, or the cumulative buckets of a Prometheus histogram.
 */
function mergedQuantile(
  periods: readonly Period[],
  side: 'champion' | 'challenger',
  metric: string,
  quantile: number,
): QuantileObservation | undefined {
  const figures = periods.flatMap((p) => p[side].figures[metric] ?? []);
  if (figures.some((f) => f.buckets)) {
    const merged = addCumulativeBuckets(figures.flatMap((f) => (f.buckets?.length ? [f.buckets] : [])));
    const value = merged.length ? bucketQuantile(quantile, merged) : undefined;
    return value === undefined ? undefined : { n: Math.round(merged[merged.length - 1]!.count), value };
  }
  const hist: Histogram = {};
  let n = 0;
  for (const p of periods) {
    const f = p[side].figures[metric];
    if (!f?.histogram) continue;
    for (const [bin, c] of Object.entries(f.histogram)) hist[bin] = (hist[bin] ?? 0) + c;
    n += f.summary.n;
  }
  const value = histogramQuantile(hist, quantile);
  return value === undefined ? undefined : { n, value };
}

/**
 * One sample-ratio check per period with a traffic split (not shadow, where both score every request, nor
 * a self-baseline, whose weights are 0), on the requests each arm served once routers had settled on the
 * split (periods.ts, settledFrom); a period without any is left out.
 */
export function srmInputs(periods: readonly Period[]): SrmInput[] {
  return periods
    .filter((p) => !p.paired && p.challenger.weight > 0 && p.champion.weight > 0)
    .map((p) => ({
      observed: p.srmCounts
        ? [p.srmCounts.champion, p.srmCounts.challenger]
        : [requestCount(p.champion.figures), requestCount(p.challenger.figures)],
      expectedWeights: [p.champion.weight, p.challenger.weight],
    }))
    .filter((s) => s.observed[0]! + s.observed[1]! > 0);
}

/** Requests each arm served over all periods: the verdict's sample sizes. */
export function requestSamples(periods: readonly Period[]): { champion: number; challenger: number } {
  const n = (side: 'champion' | 'challenger'): number =>
    sum(periods.map((p) => requestCount(p[side].figures)));
  return { champion: n('champion'), challenger: n('challenger') };
}
