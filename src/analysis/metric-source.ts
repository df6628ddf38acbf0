import type { Histogram, HistogramMoments } from '../ingest/histogram.js';
import type { CumulativeBucket } from '../stats/bucket-quantile.js';
import type { Summary } from '../stats/summary.js';
import type { SegmentQuery, SegmentSumsByVersion } from './segment-reader.js';

/**
 * Where an analysis gets its figures per version and window: the seam between the rollout gate's evidence
 * (evidence.ts) and whatever stores per-request metrics. Arena's own rollups are its provider
 * (rollup-source.ts); every period of every mode is read through it (shadow's pairs, canary windows, the
 * watch's self-baseline). Figures are sums over the window, never per-request data, so a provider's cost
 * must not grow with traffic (an analysis runs every interval of every rollout).
 *
 * Metrics kept by a monitoring system (Prometheus) come in through a second seam, prometheus-figures.ts:
 * their queries are templated per arm and mean something only where both arms serve at once, so they are
 * added to the canary periods this source's figures built, through an injected client. A provider like
 * Prometheus (Datadog, CloudWatch) belongs there; one like the rollups (another store of Arena's records)
 * implements this interface.
 */
export interface MetricSource {
  figures(query: FigureQuery): Promise<FiguresByVersion>;
  /**
   * One metric's sums per segment (DESIGN.md §11), for the per-segment consistency check. A source that
   * keeps no segments leaves it out, and the check says it could not run.
   */
  segments?(query: SegmentQuery): Promise<SegmentSumsByVersion>;
}

export interface FigureQuery {
  tenantId: string;
  model: string;
  versions: readonly string[];
  /** `served`: requests the version answered; `shadow`: requests it scored beside the served version. */
  role: 'served' | 'shadow';
  /** Inclusive start. */
  from: Date;
  /** Exclusive end. */
  to: Date;
  /**
   * The metrics whose histogram (and its moments) the caller will use: quantile guardrails, capped metrics.
   * A provider may leave the others' out, since reading bins costs far more than reading sums. Absent: all.
   */
  histograms?: readonly string[];
  /** Of those, the metrics whose per-bin moments the caller uses (capping). Absent: all of `histograms`. */
  moments?: readonly string[];
  /**
   * The metrics the caller uses at all (the sample-ratio count reads only the request count). A provider
   * may return others too. Absent: all.
   */
  metrics?: readonly string[];
}

/** Figures per version, then per metric name; a version with nothing recorded may be missing. */
export type FiguresByVersion = Readonly<Record<string, FiguresByMetric>>;
export type FiguresByMetric = Readonly<Record<string, SourceFigures>>;

/** One metric of one version in one role over one window. */
export interface SourceFigures {
  /** Independent per-request values. */
  summary: Summary;
  /**
   * Per-request differences (this shadow version − the served version) over the requests both scored:
   * what makes shadow mode a paired comparison. A source without request-level pairing leaves it out.
   */
  paired?: Summary | undefined;
  /** The merged histogram of values, for quantile guardrails; absent for metrics recorded without one. */
  histogram?: Histogram | undefined;
  /**
   * Per-bin sums of powers of `histogram`'s values, for capping (src/stats/capping.ts); absent when any
   * part of the window was recorded without them (unknown: the metric cannot be capped there).
   */
  histogramMoments?: HistogramMoments | undefined;
  /**
   * A rate counted elsewhere (a Prometheus guardrail: events out of total): the gate takes it as a
   * proportion, with the tests it runs on Arena's own error rate.
   */
  rate?: { events: number; total: number } | undefined;
  /**
   * A histogram counted elsewhere (a Prometheus quantile guardrail): its cumulative buckets, from which the
   * gate reads the quantile as PromQL's histogram_quantile does; `summary.n` is the observations' count.
   */
  buckets?: CumulativeBucket[] | undefined;
}
