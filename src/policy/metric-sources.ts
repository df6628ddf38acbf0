import { z } from 'zod';
import { PROMQL_PLACEHOLDERS, unknownPlaceholders } from '../analysis/promql-template.js';
import { BUILTIN_METRICS } from '../ingest/records.js';

/**
 * The policy's metric sources (docs/metric-sources.md): where guardrails and additional primary metrics
 * may be read from besides Arena's rollups, the PromQL templates that read them, and the rules that tie a
 * metric to its source, checked as the policy is read so a bad one names its field before anything starts.
 */

/** PromQL with Arena's placeholders; an unknown one is refused, naming it. */
export const promqlTemplate = z
  .string()
  .min(1)
  .max(4000)
  .superRefine((q, ctx) => {
    const unknown = unknownPlaceholders(q);
    if (unknown.length)
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder ${unknown.map((u) => `{{${u}}}`).join(', ')}; use ${PROMQL_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
      });
  });

/** A source of metrics besides Arena's rollups, named by guardrails and primary metrics (docs/metric-sources.md). */
export const metricSourceSchema = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('prometheus'),
        /** The server's base URL; its query API is `<address>/api/v1/query`. */
        address: z.url({
          protocol: /^https?$/,
          message: 'must be an http(s) URL, e.g. http://prometheus:9090',
        }),
      })
      .strict(),
  ],
  { error: 'type must be prometheus (the one metric source besides Arena’s rollups)' },
);

type FromSource = { source?: string | undefined; events?: string | undefined; total?: string | undefined };
interface PolicyFields {
  primaryMetric:
    (FromSource & { name: string; cap?: unknown }) | Array<FromSource & { name: string; cap?: unknown }>;
  guardrails: Array<
    FromSource & { metric: string; quantile?: number | undefined; buckets?: string | undefined }
  >;
  metricSources: Record<string, unknown>;
}

/** Each metric that names a source: the source exists, and the metric has the queries its kind needs. */
export function checkMetricSourceFields(p: PolicyFields, ctx: z.RefinementCtx): void {
  const primaries = Array.isArray(p.primaryMetric) ? p.primaryMetric : [p.primaryMetric];
  primaries.forEach((m, i) => {
    const at = (field: string, message: string) =>
      ctx.addIssue({
        code: 'custom',
        path: Array.isArray(p.primaryMetric) ? ['primaryMetric', i, field] : ['primaryMetric', field],
        message,
      });
    if (m.source === undefined) {
      for (const field of ['events', 'total'] as const)
        if (m[field] !== undefined) return at(field, 'PromQL needs a source: name one of metricSources');
      return;
    }
    if (!p.metricSources[m.source])
      return at(
        'source',
        `no metric source of that name in metricSources (${Object.keys(p.metricSources).join(', ') || 'none defined'})`,
      );
    if ((BUILTIN_METRICS as readonly string[]).includes(m.name))
      return at('name', `${m.name} is Arena's own metric; give the Prometheus one a name of its own`);
    if (m.cap !== undefined)
      return at('cap', 'capping applies to Arena’s own records, not a rate from a metric source');
    if (m.events === undefined || m.total === undefined)
      return at(
        m.events === undefined ? 'events' : 'total',
        'a primary metric from Prometheus is a rate: events (PromQL) and total (PromQL) are required',
      );
    // Shadow stages and a watch without holdback are judged on Arena's records alone (no concurrent
    // serving to read from a metric source), so they need a primary metric there.
    if (!primaries.some((o) => o.source === undefined))
      return at(
        'source',
        'a primary metric from a metric source is an additional one: list a primary metric from Arena’s records beside it',
      );
  });
  p.guardrails.forEach((g, i) => {
    const at = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: ['guardrails', i, field], message });
    if (g.source === undefined) {
      for (const field of ['events', 'total', 'buckets'] as const)
        if (g[field] !== undefined) return at(field, 'PromQL needs a source: name one of metricSources');
      return;
    }
    if (!p.metricSources[g.source])
      return at(
        'source',
        `no metric source of that name in metricSources (${Object.keys(p.metricSources).join(', ') || 'none defined'})`,
      );
    if ((BUILTIN_METRICS as readonly string[]).includes(g.metric))
      return at('metric', `${g.metric} is Arena's own metric; give the Prometheus one a name of its own`);
    if (g.quantile !== undefined) {
      // A quantile is read from the histogram's buckets, so the comparison has a sample size behind it.
      for (const field of ['events', 'total'] as const)
        if (g[field] !== undefined)
          return at(field, 'a quantile guardrail reads a histogram: give buckets, not events and total');
      if (g.buckets === undefined)
        return at(
          'buckets',
          'a Prometheus quantile guardrail needs buckets: PromQL for the histogram’s bucket counts by le',
        );
      return;
    }
    if (g.buckets !== undefined)
      return at('buckets', 'buckets are read for a quantile: give quantile (e.g. 0.95) as well');
    if (g.events === undefined)
      return at('events', 'a Prometheus rate guardrail needs events (PromQL) and total (PromQL)');
    if (g.total === undefined)
      return at('total', 'a Prometheus rate guardrail needs events (PromQL) and total (PromQL)');
  });
}
