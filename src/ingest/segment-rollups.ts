import type pg from 'pg';
import { MAX_SEGMENTS_PER_MODEL, OTHER_SEGMENT } from './limits.js';

/**
 * Per-segment sums of one (model, rollout, version, role, metric, segment, time bucket): what the
 * per-segment consistency check reads (DESIGN.md §11). Means and variances only; the pooled rollups keep the
 * histograms and shapes.
 */
export interface SegmentDelta {
  model: string;
  rolloutId: string;
  version: string;
  role: 'served' | 'shadow';
  metric: string;
  segment: string;
  bucketStart: number;
  count: number;
  sum: number;
  sumSq: number;
  pairedCount: number;
  pairedSum: number;
  pairedSumSq: number;
}

export interface SegmentedRecord {
  model: string;
  rolloutId: string;
  version: string;
  role: 'served' | 'shadow';
  /** Set: the accumulator is only given records that name a segment. */
  segment?: string | null | undefined;
}

/** Accumulates a batch's per-segment sums; RollupAccumulator feeds it for every record with a segment. */
export class SegmentAccumulator {
  private readonly deltas = new Map<string, SegmentDelta>();

  private delta(p: SegmentedRecord, metric: string, bucketStart: number, segment = p.segment!): SegmentDelta {
    const key = `${p.model}\u0000${p.rolloutId}\u0000${p.version}\u0000${p.role}\u0000${bucketStart}\u0000${metric}\u0000${segment}`;
    let d = this.deltas.get(key);
    if (!d) {
      d = {
        model: p.model,
        rolloutId: p.rolloutId,
        version: p.version,
        role: p.role,
        metric,
        segment,
        bucketStart,
        count: 0,
        sum: 0,
        sumSq: 0,
        pairedCount: 0,
        pairedSum: 0,
        pairedSumSq: 0,
      };
      this.deltas.set(key, d);
    }
    return d;
  }

  add(p: SegmentedRecord, metric: string, bucketStart: number, value: number): void {
    const d = this.delta(p, metric, bucketStart);
    d.count += 1;
    d.sum += value;
    d.sumSq += value * value;
  }

  addPaired(p: SegmentedRecord, metric: string, bucketStart: number, difference: number): void {
    const d = this.delta(p, metric, bucketStart);
    d.pairedCount += 1;
    d.pairedSum += difference;
    d.pairedSumSq += difference * difference;
  }

  get size(): number {
    return this.deltas.size;
  }

  /** The segment values of the batch, per model. */
  segmentsByModel(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const d of this.deltas.values()) {
      let set = out.get(d.model);
      if (!set) out.set(d.model, (set = new Set()));
      set.add(d.segment);
    }
    return out;
  }

  /**
   * The deltas with every segment a model does not track summed under OTHER_SEGMENT, sorted by key so that
   * concurrent upserts lock rows in one order.
   */
  entries(tracked: ReadonlyMap<string, ReadonlySet<string>>): SegmentDelta[] {
    const merged = new SegmentAccumulator();
    for (const d of this.deltas.values()) {
      const segment = tracked.get(d.model)?.has(d.segment) ? d.segment : OTHER_SEGMENT;
      const m = merged.delta(d, d.metric, d.bucketStart, segment);
      m.count += d.count;
      m.sum += d.sum;
      m.sumSq += d.sumSq;
      m.pairedCount += d.pairedCount;
      m.pairedSum += d.pairedSum;
      m.pairedSumSq += d.pairedSumSq;
    }
    return [...merged.deltas.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
  }
}

/**
 * What one process knows of each model's tracked segments: values it saw tracked, and whether the model's
 * set is full. Both only ever grow, so what is known stays true, and a batch whose segments are all known
 * needs no database round trip. Filled only from committed transactions (see `remember`).
 */
export class SegmentRegistry {
  private readonly models = new Map<string, { tracked: Set<string>; full: boolean }>();

  constructor(private readonly limit = MAX_SEGMENTS_PER_MODEL) {}

  private key(tenantId: string, model: string): string {
    return `${tenantId}\u0000${model}`;
  }

  /**
   * The tracked segments of each model of the batch. Values this process has not seen decided are admitted
   * in order of arrival while the model has room, under a per-model transaction lock, so concurrent writers
   * cannot together pass the limit. Pass `learnt` to `remember` once the transaction has committed.
   */
  async resolve(
    client: pg.PoolClient,
    tenantId: string,
    wanted: ReadonlyMap<string, ReadonlySet<string>>,
  ): Promise<{ tracked: Map<string, Set<string>>; learnt: Learnt }> {
    const tracked = new Map<string, Set<string>>();
    const learnt: Learnt = new Map();
    const unknown = new Map<string, string[]>();
    for (const [model, segments] of wanted) {
      const known = this.models.get(this.key(tenantId, model));
      const mine = new Set<string>();
      const open: string[] = [];
      for (const s of segments) {
        if (known?.tracked.has(s)) mine.add(s);
        else if (!known?.full) open.push(s);
      }
      tracked.set(model, mine);
      if (open.length) unknown.set(model, open);
    }
    if (unknown.size === 0) return { tracked, learnt };
    const models = [...unknown.keys()].sort();
    await client.query(
      `select pg_advisory_xact_lock(h)
         from (select distinct hashtextextended($1 || chr(1) || m || chr(1) || 'segments', 0) as h
                 from unnest($2::text[]) m order by h) s`,
      [tenantId, models],
    );
    for (const model of models) {
      const open = unknown.get(model)!;
      await client.query(
        `insert into model_segments (tenant_id, model, segment)
         select $1, $2, u.s from unnest($3::text[]) with ordinality u(s, ord)
          where not exists (select 1 from model_segments m
                             where m.tenant_id = $1 and m.model = $2 and m.segment = u.s)
          order by u.ord
          limit greatest(0, $4 - (select count(*) from model_segments where tenant_id = $1 and model = $2))
         on conflict do nothing`,
        [tenantId, model, open, this.limit],
      );
      const { rows } = await client.query<{ tracked: string[]; total: string }>(
        `select array(select segment from model_segments
                       where tenant_id = $1 and model = $2 and segment = any($3)) as tracked,
                (select count(*) from model_segments where tenant_id = $1 and model = $2) as total`,
        [tenantId, model, open],
      );
      const mine = tracked.get(model)!;
      for (const s of rows[0]!.tracked) mine.add(s);
      learnt.set(this.key(tenantId, model), {
        seen: new Set(rows[0]!.tracked),
        full: Number(rows[0]!.total) >= this.limit,
      });
    }
    return { tracked, learnt };
  }

  /** After commit: what `resolve` learnt is now true for every later batch. */
  remember(learnt: Learnt): void {
    for (const [key, { seen, full }] of learnt) {
      let m = this.models.get(key);
      if (!m) {
        // Bounded memory: a process writing for very many models forgets the oldest (it only costs a query).
        if (this.models.size >= 10_000) this.models.delete(this.models.keys().next().value!);
        this.models.set(key, (m = { tracked: new Set(), full: false }));
      }
      for (const s of seen) m.tracked.add(s);
      m.full ||= full;
    }
  }
}

/** What one transaction learnt of models' tracked segments, keyed as SegmentRegistry keys them. */
export type Learnt = Map<string, { seen: Set<string>; full: boolean }>;

const COLUMNS = [
  'tenant_id',
  'model',
  'rollout_id',
  'version',
  'role',
  'metric',
  'segment',
  'bucket_start',
  'count',
  'sum',
  'sum_sq',
  'paired_count',
  'paired_sum',
  'paired_sum_sq',
];

/** Adds the deltas to their rows (one statement per thousand rows). */
export async function upsertSegmentRollups(
  client: pg.PoolClient,
  tenantId: string,
  deltas: SegmentDelta[],
): Promise<void> {
  for (let i = 0; i < deltas.length; i += 1000) {
    const chunk = deltas.slice(i, i + 1000);
    const params: unknown[] = [];
    const tuples = chunk.map((d) => {
      const base = params.length;
      params.push(
        tenantId,
        d.model,
        d.rolloutId,
        d.version,
        d.role,
        d.metric,
        d.segment,
        new Date(d.bucketStart).toISOString(),
        d.count,
        d.sum,
        d.sumSq,
        d.pairedCount,
        d.pairedSum,
        d.pairedSumSq,
      );
      return `(${COLUMNS.map((_, j) => `$${base + j + 1}`).join(',')})`;
    });
    await client.query(
      `insert into segment_rollups (${COLUMNS.join(', ')})
       values ${tuples.join(',')}
       on conflict (tenant_id, model, metric, version, role, rollout_id, bucket_start, segment) do update set
         count = segment_rollups.count + excluded.count,
         sum = segment_rollups.sum + excluded.sum,
         sum_sq = segment_rollups.sum_sq + excluded.sum_sq,
         paired_count = segment_rollups.paired_count + excluded.paired_count,
         paired_sum = segment_rollups.paired_sum + excluded.paired_sum,
         paired_sum_sq = segment_rollups.paired_sum_sq + excluded.paired_sum_sq,
         updated_at = now()`,
      params,
    );
  }
}

const registries = new WeakMap<pg.Pool, SegmentRegistry>();

/** One registry per connection pool: per process and database, as what it remembers is. */
export function segmentRegistryFor(pool: pg.Pool): SegmentRegistry {
  let r = registries.get(pool);
  if (!r) registries.set(pool, (r = new SegmentRegistry()));
  return r;
}

/**
 * Writes a batch's per-segment sums, untracked segments under OTHER_SEGMENT. Call inside the write
 * transaction, after its outcome locks; pass `learnt` to the registry's `remember` once it commits.
 */
export async function writeSegmentRollups(
  client: pg.PoolClient,
  tenantId: string,
  acc: SegmentAccumulator,
  registry: SegmentRegistry,
): Promise<{ rows: number; learnt: Learnt }> {
  if (acc.size === 0) return { rows: 0, learnt: new Map() };
  const { tracked, learnt } = await registry.resolve(client, tenantId, acc.segmentsByModel());
  const deltas = acc.entries(tracked);
  await upsertSegmentRollups(client, tenantId, deltas);
  return { rows: deltas.length, learnt };
}
