import type { Guardrail, Policy } from '../policy/policy.js';
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

/** A rate (events out of total) or a quantile of a histogram (its buckets), as the policy schema allows. */
export type PrometheusGuardrail = Guardrail & { source: string } & (
    { kind: 'rate'; events: string; total: string } | { kind: 'quantile'; quantile: number; buckets: string }
  );

/** The policy's guardrails read from a Prometheus source, with their index in the policy. */
export function prometheusGuardrails(policy: Policy): Array<{ index: number; g: PrometheusGuardrail }> {
  return policy.guardrails.flatMap((g, index): Array<{ index: number; g: PrometheusGuardrail }> => {
    const { source, events, total, quantile, buckets } = g;
    if (!source || policy.metricSources[source]?.type !== 'prometheus') return [];
    if (quantile !== undefined && buckets)
      return [{ index, g: { ...g, source, kind: 'quantile', quantile, buckets } }];
    if (events && total) return [{ index, g: { ...g, source, kind: 'rate', events, total } }];
    return [];
  });
}

/** The PromQL templates of a Prometheus guardrail, by field. */
export function promqlFields(g: PrometheusGuardrail): Array<['events' | 'total' | 'buckets', string]> {
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
 * Adds each Prometheus guardrail's rate, per arm, to the canary periods an analysis compares: the events
 * and total queries, templated for the arm and the window, evaluated at the window's end. A query without a
 * number (unreachable, error, empty, NaN, ambiguous) gives that arm no data: the guardrail waits, never
 * passes, and a note says why. Shadow periods are left alone (the challenger serves no one there, so a
 * serving metric has nothing to say), as is the watch's self-baseline (no concurrent control to compare).
 */
export async function addPrometheusFigures(
  input: AnalyzeInput,
  periods: Period[],
  clientFor: ClientFor = defaultClientFor,
): Promise<{ periods: Period[]; notes: string[]; errors: string[] }> {
  const guardrails = prometheusGuardrails(input.policy);
  if (guardrails.length === 0) return { periods, notes: [], errors: [] };
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
          guardrails.map(async ({ g }) => {
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
  if (guardrails.length && periods.some((p) => p.paired))
    notes.push(
      `${guardrails.map(({ g }) => g.metric).join(', ')} (Prometheus): checked in canary stages and the watch, not in shadow`,
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
