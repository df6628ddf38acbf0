import type { Knex } from 'knex';
import { histogramQuantile, type Histogram, type HistogramMoments } from '../ingest/histogram.js';
import { summaryFromSums, type Summary as SummaryStats } from '../stats/summary.js';
import { UserFacingError } from '../errors.js';
import { figureKey, readWindowBins } from './rollup-bins.js';

export type { Summary as SummaryStats } from '../stats/summary.js';

export interface MetricFigures {
  /** Independent per-request values of this version and role. */
  summary: SummaryStats;
  /** Per-request differences (this shadow version − the served version), when paired data exists. */
  paired: SummaryStats | undefined;
  errorCount: number;
  min: number | null;
  max: number | null;
  /** p50/p95/p99 from the merged log-bucket histogram, for metrics recorded with one (latency_ms). */
  quantiles: { p50: number; p95: number; p99: number } | undefined;
  /** The merged histogram itself, for any other quantile. */
  histogram: Histogram | undefined;
  /**
   * Per-bin sums of powers of the histogram's values, merged over the window; undefined when any row of the
   * window counted values without them (written before they were kept, or past the overflow bound).
   */
  histogramMoments: HistogramMoments | undefined;
}

export interface WindowQuery {
  tenantId?: string;
  model: string;
  versions: string[];
  role?: 'served' | 'shadow';
  /** Inclusive start of the first time bucket. */
  from?: Date;
  /** Exclusive end: buckets starting at or after it are left out. */
  to?: Date;
  /**
   * Bucket width: when given, a bucket that reaches past `to` is left out as well, so a window holds only
   * whole buckets and no data from the period after it (the next stage's traffic split).
   */
  bucketMs?: number;
  rolloutId?: string;
  /**
   * false: leave out histograms, quantiles and per-bin moments, for callers that use only summaries; a list:
   * read them for those metrics only. The bins are most of what a window costs to read (hundreds per
   * continuous metric and bucket). Default: every metric's.
   */
  histograms?: boolean | readonly string[];
  /**
   * Of the metrics whose bins are read, those whose per-bin moments are wanted too (capping); a quantile
   * needs only the counts. Default: all of them.
   */
  moments?: readonly string[];
  /** Only these metrics (e.g. the request count a sample-ratio check needs). Default: every metric. */
  metrics?: readonly string[];
}

export type VersionFigures = Record<string, Record<string, MetricFigures>>;

function scoped(knex: Knex, q: WindowQuery): Knex.QueryBuilder {
  const query = knex('metric_rollups')
    .where({ tenant_id: q.tenantId ?? 'default', model: q.model })
    .whereIn('version', q.versions);
  if (q.role) void query.where('role', q.role);
  if (q.rolloutId !== undefined) void query.where('rollout_id', q.rolloutId);
  if (q.metrics) void query.whereIn('metric', q.metrics);
  if (q.from) void query.where('bucket_start', '>=', q.from);
  if (q.to)
    void query.where('bucket_start', '<', q.bucketMs ? new Date(q.to.getTime() - q.bucketMs + 1) : q.to);
  return query;
}

interface SumsRow {
  version: string;
  metric: string;
  n: number;
  sum: number;
  sum_sq: number;
  /** NULL when any row's is (unknown shape). */
  sum_cubes: number | null;
  pn: number;
  psum: number;
  psum_sq: number;
  psum_cubes: number | null;
  errors: number;
  min: number | null;
  max: number | null;
  hist: boolean;
  moments: boolean;
}

/**
 * Every metric of the given versions over a time window, from rollups only: one grouped query for the sums,
 * and two over the histograms' bins (rollup-bins.ts) unless `histograms` is false. Their cost depends on the
 * number of time buckets and bins in the window, not on how many predictions they summarise.
 */
export async function readVersionMetrics(knex: Knex, q: WindowQuery): Promise<VersionFigures> {
  const only = Array.isArray(q.histograms) ? [...new Set<string>(q.histograms)] : undefined;
  // The flags below read each row's jsonb, which is stored out of line once it grows (hundreds of bins):
  // evaluated for every row of every metric, they made a 1M-prediction analysis five times slower. CASE
  // evaluates its branches lazily, so only the metrics whose bins are wanted pay for them.
  const binFlag = (expr: string, otherwise: 'true' | 'false', agg: 'bool_or' | 'bool_and') =>
    q.histograms === false
      ? knex.raw(`${otherwise}`)
      : only
        ? knex.raw(`${agg}(case when metric = any(?::text[]) then ${expr} else ${otherwise} end)`, [only])
        : knex.raw(`${agg}(${expr})`);
  const rows = (await scoped(knex, q)
    .groupBy('version', 'metric')
    .select(
      'version',
      'metric',
      knex.raw('sum(count)::float8 as n'),
      knex.raw('sum(sum) as sum'),
      knex.raw('sum(sum_sq) as sum_sq'),
      // sum() skips NULLs, which would pass a partly unknown window off as known.
      knex.raw('case when bool_and(sum_cubes is not null) then sum(sum_cubes) end as sum_cubes'),
      knex.raw('sum(paired_count)::float8 as pn'),
      knex.raw('sum(paired_sum) as psum'),
      knex.raw('sum(paired_sum_sq) as psum_sq'),
      knex.raw(
        'case when bool_and(paired_sum_cubes is not null) then sum(paired_sum_cubes) end as psum_cubes',
      ),
      knex.raw('sum(error_count)::float8 as errors'),
      knex.raw('min(min) as min'),
      knex.raw('max(max) as max'),
      knex.raw('? as hist', [binFlag(`histogram <> '{}'::jsonb`, 'false', 'bool_or')]),
      // Known only when every value the window counts went into moments (a row's moments cover all its
      // values or are '{}', see upsertRollups); a row with values but no histogram has none.
      knex.raw('? as moments', [
        binFlag(`count = 0 or histogram_moments <> '{}'::jsonb`, 'false', 'bool_and'),
      ]),
    )) as SumsRow[];

  const binned = rows.filter((r) => r.hist && (only === undefined || only.includes(r.metric)));
  const { histograms, moments } =
    binned.length === 0
      ? { histograms: new Map<string, Histogram>(), moments: new Map<string, HistogramMoments>() }
      : await readWindowBins(
          () => (only ? scoped(knex, q).whereIn('metric', only) : scoped(knex, q)),
          knex,
          binned.filter((r) => r.moments && (q.moments === undefined || q.moments.includes(r.metric))),
        );

  const out: VersionFigures = Object.fromEntries(q.versions.map((v) => [v, {}]));
  for (const r of rows) {
    // Ingestion bounds every value and migration 20261202000008 moved older poisoned rows aside, so this
    // only happens to rows written around Arena; a statistic built on them would be NaN, so say so instead.
    const sums = {
      sum: r.sum,
      sum_sq: r.sum_sq,
      sum_cubes: r.sum_cubes,
      paired_sum: r.psum,
      paired_sum_sq: r.psum_sq,
      paired_sum_cubes: r.psum_cubes,
    };
    const bad = Object.entries(sums).find(([, v]) => v !== null && !Number.isFinite(Number(v)));
    if (bad)
      throw new UserFacingError(
        `Rollups of ${q.model} ${r.version} ${r.metric} hold a non-finite ${bad[0]} (${bad[1]}): no statistic can be computed from them`,
        'Run `arena db migrate` (it moves such rows to metric_rollups_quarantine), or find what wrote them bypassing ingestion.',
      );
    const k = figureKey(r.version, r.metric);
    const h = histograms.get(k);
    out[r.version]![r.metric] = {
      summary: summaryFromSums(r.n, r.sum, r.sum_sq, r.sum_cubes),
      paired: r.pn > 0 ? summaryFromSums(r.pn, r.psum, r.psum_sq, r.psum_cubes) : undefined,
      errorCount: r.errors,
      min: r.min,
      max: r.max,
      quantiles: h
        ? {
            p50: histogramQuantile(h, 0.5)!,
            p95: histogramQuantile(h, 0.95)!,
            p99: histogramQuantile(h, 0.99)!,
          }
        : undefined,
      histogram: h,
      histogramMoments: h ? moments.get(k) : undefined,
    };
  }
  return out;
}
