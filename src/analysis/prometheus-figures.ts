import type { Policy } from '../policy/policy.js';
import type { AnalyzeInput } from './analyze-input.js';
import type { SourceFigures } from './metric-source.js';
import type { Period } from './periods.js';
import { bucketQuantile } from '../stats/bucket-quantile.js';
import {
  createPrometheusClient,
  type PrometheusClient,
  type PromqlFailure,
  type PromqlValue,
} from './prometheus-client.js';
import { promqlDuration, renderPromql } from './promql-template.js';

/**
 * A metric read from a Prometheus source, as the policy schema allows it: a guardrail's rate (events out of
 * total) or quantile (a histogram's buckets), or an additional primary metric's rate. `field` is where it
 * sits in the policy (`guardrails.2`, `primaryMetric.1`), for errors that name it.
 */
export type PrometheusMetric = { field: string; metric: string; source: string } & (
  { kind: 'rate'; events: string; total: string } | { kind: 'quantile'; quantile: number; buckets: string }
);

/** The policy's metrics read from a Prometheus source: primary metrics first, then guardrails. */
export function prometheusMetrics(policy: Policy): PrometheusMetric[] {
  const fromPrometheus = (source: string | undefined): source is string =>
    source !== undefined && policy.metricSources[source]?.type === 'prometheus';
  const primaries = policy.primaryMetric.flatMap((m, i): PrometheusMetric[] =>
    fromPrometheus(m.source) && m.events && m.total
      ? [
          {
            field: `primaryMetric.${i}`,
            metric: m.name,
            source: m.source,
            kind: 'rate',
            events: m.events,
            total: m.total,
          },
        ]
      : [],
  );
  const guardrails = policy.guardrails.flatMap((g, i): PrometheusMetric[] => {
    const { source, events, total, quantile, buckets } = g;
    if (!fromPrometheus(source)) return [];
    const at = { field: `guardrails.${i}`, metric: g.metric, source };
    if (quantile !== undefined && buckets) return [{ ...at, kind: 'quantile', quantile, buckets }];
    if (events && total) return [{ ...at, kind: 'rate', events, total }];
    return [];
  });
  return [...primaries, ...guardrails];
}

/** The PromQL templates of a Prometheus metric, by field. */
export function promqlFields(g: PrometheusMetric): Array<['events' | 'total' | 'buckets', string]> {
  return g.kind === 'quantile'
    ? [['buckets', g.buckets]]
    : [
        ['events', g.events],
        ['total', g.total],
      ];
}

/** Failures that say the source is broken (not merely without data yet): what consecutiveErrorLimit counts. */
const SOURCE_ERRORS: ReadonlySet<PromqlFailure['reason']> = new Set([
  'unreachable',
  'query-error',
  'ambiguous',
]);

export type ClientFor = (address: string) => PrometheusClient;
const defaultClientFor: ClientFor = (address) => createPrometheusClient(address);

/**
 * Adds each Prometheus metric's figures, per arm, to the canary periods an analysis compares: a rate's
 * events and total queries, or a histogram's buckets, templated for the arm and the window and evaluated
 * at the window's end. A query without a number (unreachable, error, empty, NaN, ambiguous) gives that arm
 * no data: the metric waits, never passes, and a note says why (`errors` lists the failures that count
 * towards consecutiveErrorLimit). Shadow periods are left alone (the challenger serves no one there, so a
 * serving metric has nothing to say), as is the watch's self-baseline (no concurrent control to compare).
 */
export async function addPrometheusFigures(
  input: AnalyzeInput,
  periods: Period[],
  clientFor: ClientFor = defaultClientFor,
): Promise<{ periods: Period[]; notes: string[]; errors: string[] }> {
  const metrics = prometheusMetrics(input.policy);
  if (metrics.length === 0) return { periods, notes: [], errors: [] };
  const notes: string[] = [];
  const errors: string[] = [];
  const clients = new Map(
    Object.entries(input.policy.metricSources).map(([name, source]) => [name, clientFor(source.address)]),
  );
  const selfBaseline = periods.length !== input.windows.length;
  const out = await Promise.all(
    periods.map(async (p, k) => {
      const w = input.windows[k];
      if (!w || p.paired || selfBaseline) return p;
      const arm = async (side: 'champion' | 'challenger'): Promise<Record<string, SourceFigures>> => {
        const version = side === 'champion' ? input.champion : input.challenger;
        const values = {
          model: input.model,
          version,
          arm: side,
          interval: promqlDuration(input.policy.analysis.interval),
          window: promqlDuration(Date.parse(w.to) - Date.parse(w.from)),
        };
        const at = new Date(w.to);
        const entries = await Promise.all(
          metrics.map(async (g) => {
            const client = clients.get(g.source)!;
            const noDataFrom = (failure: string, error: boolean): readonly [string, SourceFigures] => {
              const note = `${g.metric}: no data from Prometheus (${g.source}) for the ${side} ${version}: ${failure}`;
              notes.push(note);
              if (error) errors.push(note);
              return [g.metric, g.kind === 'quantile' ? { summary: EMPTY, buckets: [] } : rateFigures(0, 0)];
            };
            if (g.kind === 'quantile') {
              const b = await client.buckets(renderPromql(g.buckets, values), at);
              if (!b.ok) return noDataFrom(`buckets: ${describe(b)}`, SOURCE_ERRORS.has(b.reason));
              const n = Math.round(b.buckets[b.buckets.length - 1]!.count);
              if (n === 0 || bucketQuantile(g.quantile, b.buckets) === undefined)
                return noDataFrom('buckets: no observations in the window', false);
              return [g.metric, { summary: { n, mean: 0, variance: 0 }, buckets: b.buckets }] as const;
            }
            const [events, total] = await Promise.all([
              client.query(renderPromql(g.events, values), at),
              client.query(renderPromql(g.total, values), at),
            ]);
            const failed = [events, total].find((v): v is PromqlFailure => !v.ok);
            const missing = noData(events, 'events') ?? noData(total, 'total');
            if (missing || !events.ok || !total.ok)
              return noDataFrom(missing ?? '', failed !== undefined && SOURCE_ERRORS.has(failed.reason));
            return [g.metric, rateFigures(events.value, total.value)] as const;
          }),
        );
        return Object.fromEntries(entries);
      };
      const [champion, challenger] = await Promise.all([arm('champion'), arm('challenger')]);
      return {
        ...p,
        champion: { ...p.champion, figures: { ...p.champion.figures, ...champion } },
        challenger: { ...p.challenger, figures: { ...p.challenger.figures, ...challenger } },
      };
    }),
  );
  if (periods.some((p) => p.paired))
    notes.push(
      `${metrics.map((g) => g.metric).join(', ')} (Prometheus): checked in canary stages and the watch, not in shadow`,
    );
  return { periods: out, notes: [...new Set(notes)], errors: [...new Set(errors)] };
}

const EMPTY = { n: 0, mean: 0, variance: 0 };

function describe(f: PromqlFailure): string {
  return f.reason === 'empty' ? 'no series' : f.message;
}

function noData(v: PromqlValue, query: 'events' | 'total'): string | undefined {
  if (!v.ok) return `${query}: ${describe(v)}`;
  if (v.value < 0) return `${query}: ${v.value} is negative`;
  if (query === 'total' && v.value === 0) return 'total: 0 requests';
  return undefined;
}

/** A rate as figures: events out of total (increase() extrapolates, so events are kept within total). */
function rateFigures(events: number, total: number): SourceFigures {
  const n = Math.round(total);
  const e = Math.min(Math.max(0, Math.round(events)), n);
  const mean = n > 0 ? e / n : 0;
  return {
    summary: { n, mean, variance: n > 1 ? (mean * (1 - mean) * n) / (n - 1) : 0 },
    rate: { events: e, total: n },
  };
}
