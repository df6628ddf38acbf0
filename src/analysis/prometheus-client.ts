import { z } from 'zod';
import type { CumulativeBucket } from '../stats/bucket-quantile.js';

/**
 * Prometheus's instant-query API (`GET /api/v1/query`), answering one number or saying why there is none.
 * Written on fetch rather than with a client package: the API is one GET whose JSON zod validates, and
 * what Arena needs on top (one series or "ambiguous", NaN as no data, the parser's error position kept) no
 * client does for it.
 */
export type PromqlFailure = {
  ok: false;
  reason: 'unreachable' | 'query-error' | 'empty' | 'nan' | 'ambiguous';
  message: string;
};
export type PromqlValue = { ok: true; value: number; labels: Record<string, string> } | PromqlFailure;
/** A histogram's cumulative buckets (ascending `le`, the last +Inf), or why there are none. */
export type PromqlBuckets = { ok: true; buckets: CumulativeBucket[] } | PromqlFailure;

const sample = z.tuple([z.number(), z.string()]);
const answer = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({
        resultType: z.literal('vector'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sample })),
      }),
      z.object({ resultType: z.literal('scalar'), result: sample }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
      z.object({ resultType: z.literal('string'), result: sample }),
    ]),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

export interface PrometheusClient {
  /** The query's single value at `time`. */
  query(promql: string, time: Date): Promise<PromqlValue>;
  /** A histogram's bucket counts at `time`: one series per `le`, all else alike (`sum by (le) (…)`). */
  buckets(promql: string, time: Date): Promise<PromqlBuckets>;
}

type Series = Array<{ metric: Record<string, string>; value: [number, string] }>;

export function createPrometheusClient(baseUrl: string, opts: { timeoutMs?: number } = {}): PrometheusClient {
  const root = baseUrl.replace(/\/+$/, '');
  async function instant(promql: string, time: Date): Promise<{ ok: true; series: Series } | PromqlFailure> {
    const url = `${root}/api/v1/query?${new URLSearchParams({ query: promql, time: (time.getTime() / 1000).toFixed(3) })}`;
    let body: unknown;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000) });
      body = await res.json();
    } catch (err) {
      return {
        ok: false,
        reason: 'unreachable',
        message: `Prometheus at ${root} did not answer: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const parsed = answer.safeParse(body);
    if (!parsed.success)
      return {
        ok: false,
        reason: 'unreachable',
        message: `Prometheus at ${root} answered something that is not its query API`,
      };
    const a = parsed.data;
    // The parser's message carries the position ("1:14: parse error: unexpected …"); keep it whole.
    if (a.status === 'error')
      return { ok: false, reason: 'query-error', message: `${a.errorType}: ${a.error}` };
    const d = a.data;
    if (d.resultType === 'matrix' || d.resultType === 'string')
      return {
        ok: false,
        reason: 'query-error',
        message: `the query returns a ${d.resultType}; an instant vector or scalar is needed`,
      };
    const series = d.resultType === 'scalar' ? [{ metric: {}, value: d.result }] : d.result;
    if (series.length === 0) return { ok: false, reason: 'empty', message: 'the query returned no series' };
    return { ok: true, series };
  }
  const labelList = (series: Series): string =>
    `${series
      .slice(0, 5)
      .map((s) => JSON.stringify(s.metric))
      .join(', ')}${series.length > 5 ? ', …' : ''}`;

  return {
    async query(promql, time) {
      const r = await instant(promql, time);
      if (!r.ok) return r;
      const { series } = r;
      if (series.length > 1)
        return {
          ok: false,
          reason: 'ambiguous',
          message: `ambiguous query: ${series.length} series where one was expected (${labelList(series)}); aggregate it, e.g. sum(…)`,
        };
      const value = Number(series[0]!.value[1]);
      if (!Number.isFinite(value))
        return { ok: false, reason: 'nan', message: `the query returned ${series[0]!.value[1]}` };
      return { ok: true, value, labels: series[0]!.metric };
    },

    async buckets(promql, time) {
      const r = await instant(promql, time);
      if (!r.ok) return r;
      const { series } = r;
      const noLe = series.find((s) => s.metric.le === undefined);
      if (noLe)
        return {
          ok: false,
          reason: 'query-error',
          message: `a series without an le label (${JSON.stringify(noLe.metric)}): buckets must be a histogram's _bucket series, e.g. sum by (le) (increase(…_bucket{…}[{{window}}]))`,
        };
      // Series that differ in more than `le` are several histograms: which to read is not Arena's to guess.
      const others = new Set(
        series.map((s) =>
          JSON.stringify(
            Object.entries(s.metric)
              .filter(([k]) => k !== 'le')
              .sort(),
          ),
        ),
      );
      const les = new Set(series.map((s) => s.metric.le));
      if (others.size > 1 || les.size < series.length)
        return {
          ok: false,
          reason: 'ambiguous',
          message: `ambiguous query: the buckets of several histograms (${labelList(series)}); aggregate them, e.g. sum by (le) (…)`,
        };
      const buckets: CumulativeBucket[] = [];
      for (const s of series) {
        const le = Number(s.metric.le === '+Inf' ? Infinity : s.metric.le);
        const count = Number(s.value[1]);
        if (Number.isNaN(le))
          return { ok: false, reason: 'query-error', message: `le="${s.metric.le}" is not a bucket bound` };
        if (!Number.isFinite(count))
          return { ok: false, reason: 'nan', message: `bucket le="${s.metric.le}" counted ${s.value[1]}` };
        buckets.push({ le, count: Math.max(0, count) });
      }
      buckets.sort((a, b) => a.le - b.le);
      if (buckets[buckets.length - 1]!.le !== Infinity)
        return {
          ok: false,
          reason: 'query-error',
          message: 'no le="+Inf" bucket: buckets must be all of a histogram\'s _bucket series',
        };
      return { ok: true, buckets };
    },
  };
}
