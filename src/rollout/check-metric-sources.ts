import { prometheusMetrics, promqlFields, type ClientFor } from '../analysis/prometheus-figures.js';
import { createPrometheusClient } from '../analysis/prometheus-client.js';
import { promqlDuration, renderPromql } from '../analysis/promql-template.js';
import { InvalidInputError } from '../errors.js';
import type { Policy } from '../policy/policy.js';

/**
 * Before a rollout starts, each Prometheus metric's queries run once, for the champion: a query
 * Prometheus refuses (with the parser's position), one that returns several series (or buckets that are
 * not one histogram's), or a server that does
 * not answer stops the start with the guardrail's field named. No data yet is fine: the challenger has
 * served nothing.
 */
export async function checkMetricSources(
  policy: Policy,
  subject: { model: string; champion: string },
  clientFor: ClientFor = (address) => createPrometheusClient(address, { timeoutMs: 5_000 }),
): Promise<void> {
  const values = {
    model: subject.model,
    version: subject.champion,
    arm: 'champion',
    interval: promqlDuration(policy.analysis.interval),
    window: promqlDuration(policy.analysis.interval),
  };
  for (const g of prometheusMetrics(policy)) {
    const source = policy.metricSources[g.source]!;
    const client = clientFor(source.address);
    for (const [field, template] of promqlFields(g)) {
      const promql = renderPromql(template, values);
      const v =
        field === 'buckets'
          ? await client.buckets(promql, new Date())
          : await client.query(promql, new Date());
      if (v.ok || v.reason === 'empty' || v.reason === 'nan') continue;
      throw new InvalidInputError(
        `policy.${g.field}.${field}`,
        template,
        v.message,
        v.reason === 'unreachable'
          ? `Check metricSources.${g.source}.address (${source.address}) and that Prometheus runs; nothing was started.`
          : 'Fix the query (try it in Prometheus with the placeholders filled in); nothing was started.',
      );
    }
  }
}
