import type { Knex } from 'knex';

/** Sums of one metric of one version in one segment over a window (segment_rollups, summed over buckets). */
export interface SegmentSums {
  count: number;
  sum: number;
  sumSq: number;
  pairedCount: number;
  pairedSum: number;
  pairedSumSq: number;
}

/** Per version, then per segment; a version with nothing recorded may be missing. */
export type SegmentSumsByVersion = Record<string, Record<string, SegmentSums>>;

export interface SegmentQuery {
  tenantId: string;
  model: string;
  metric: string;
  versions: readonly string[];
  role: 'served' | 'shadow';
  /** Inclusive start. */
  from: Date;
  /** Exclusive end. */
  to: Date;
}

export const EMPTY_SEGMENT_SUMS: Readonly<SegmentSums> = Object.freeze({
  count: 0,
  sum: 0,
  sumSq: 0,
  pairedCount: 0,
  pairedSum: 0,
  pairedSumSq: 0,
});

export function addSegmentSums(a: Readonly<SegmentSums>, b: Readonly<SegmentSums>): SegmentSums {
  return {
    count: a.count + b.count,
    sum: a.sum + b.sum,
    sumSq: a.sumSq + b.sumSq,
    pairedCount: a.pairedCount + b.pairedCount,
    pairedSum: a.pairedSum + b.pairedSum,
    pairedSumSq: a.pairedSumSq + b.pairedSumSq,
  };
}

/**
 * One grouped query over the segment rollups of one metric: its cost depends on the buckets and segments
 * in the window (at most MAX_SEGMENTS_PER_MODEL + 1 of them), not on the traffic. As with the pooled
 * rollups, only whole buckets are read when `bucketMs` is given.
 */
export async function readSegmentSums(
  knex: Knex,
  q: SegmentQuery,
  bucketMs?: number,
): Promise<SegmentSumsByVersion> {
  const to = bucketMs ? new Date(q.to.getTime() - bucketMs + 1) : q.to;
  const rows = (await knex('segment_rollups')
    .where({ tenant_id: q.tenantId, model: q.model, metric: q.metric, role: q.role })
    .whereIn('version', [...q.versions])
    .where('bucket_start', '>=', q.from)
    .where('bucket_start', '<', to)
    .groupBy('version', 'segment')
    .select(
      'version',
      'segment',
      knex.raw('sum(count)::float8 as count'),
      knex.raw('sum(sum) as sum'),
      knex.raw('sum(sum_sq) as sum_sq'),
      knex.raw('sum(paired_count)::float8 as paired_count'),
      knex.raw('sum(paired_sum) as paired_sum'),
      knex.raw('sum(paired_sum_sq) as paired_sum_sq'),
    )) as Array<{
    version: string;
    segment: string;
    count: number;
    sum: number;
    sum_sq: number;
    paired_count: number;
    paired_sum: number;
    paired_sum_sq: number;
  }>;
  const out: SegmentSumsByVersion = {};
  for (const r of rows) {
    (out[r.version] ??= {})[r.segment] = {
      count: r.count,
      sum: r.sum,
      sumSq: r.sum_sq,
      pairedCount: r.paired_count,
      pairedSum: r.paired_sum,
      pairedSumSq: r.paired_sum_sq,
    };
  }
  return out;
}
