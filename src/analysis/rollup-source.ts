import type { Knex } from 'knex';
import type { MetricSource } from './metric-source.js';
import { readVersionMetrics } from './rollup-reader.js';
import { readSegmentSums } from './segment-reader.js';

/**
 * Arena's rollups as a metric source: grouped queries whose cost depends on the number of time buckets in
 * the window, not on the traffic. Only whole buckets are read (`bucketMs`), so a window holds no data from
 * the period after it (the next stage's split).
 */
export function rollupMetricSource(knex: Knex, bucketMs: number): MetricSource {
  return {
    figures: (q) =>
      readVersionMetrics(knex, {
        tenantId: q.tenantId,
        model: q.model,
        versions: [...q.versions],
        role: q.role,
        from: q.from,
        to: q.to,
        bucketMs,
        ...(q.histograms ? { histograms: q.histograms } : {}),
        ...(q.moments ? { moments: q.moments } : {}),
        ...(q.metrics ? { metrics: q.metrics } : {}),
      }),
    segments: (q) => readSegmentSums(knex, q, bucketMs),
  };
}
