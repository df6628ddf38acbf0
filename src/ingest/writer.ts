import type pg from 'pg';
import { lockOutcomes } from './advisory-locks.js';
import { dayPartitionsFor, isMissingPartition } from './day-partitions.js';
import { copyInto, insertViaArrays, predictionKey as key, predictionRows } from './prediction-insert.js';
import {
  anchorRequests,
  copyAnchors,
  planAnchors,
  recordOrder,
  requestKey,
  type Anchor,
} from './request-anchors.js';
import { RollupAccumulator } from './rollup-delta.js';
import { addOutcomes, upsertRollups } from './rollup-writes.js';
import { segmentRegistryFor, writeSegmentRollups } from './segment-rollups.js';
import type { Feedback, Prediction } from './records.js';
import { beginAs, checkOut, commit, rollback } from './write-transaction.js';

export interface WriteOptions {
  bucketMs: number;
  /**
   * Run the transaction as the `arena_tenant` role with `arena.tenant_id` set, so Postgres' row-level
   * security itself refuses rows of another tenant (the gateway does this; trusted workers need not).
   */
  enforceTenant?: boolean;
}

export interface WriteResult {
  /** Per record of the batch, in order: true when this write stored it, false when it was already stored. */
  fresh: boolean[];
  inserted: number;
  /** Records already stored (a retried batch, a repeated request): skipped and not counted again. */
  duplicates: number;
  rollupRows: number;
}

/**
 * Retention may drop a day partition this process remembers as existing; the write then finds no partition
 * for its rows. That is no fault of the records (PostgreSQL calls it a check violation, which the recorder
 * would charge to them), so the write forgets what it knew and runs once more, making the partition again.
 */
async function withPartitions<T>(pool: pg.Pool, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isMissingPartition(err)) throw err;
    dayPartitionsFor(pool).forget();
    try {
      return await write();
    } catch (again) {
      if (!isMissingPartition(again)) throw again;
      // Twice in a row means retention is dropping days as this write makes them: retry later, not refuse.
      throw Object.assign(new Error(`no partition for the batch's days: ${(again as Error).message}`), {
        code: '40001',
      });
    }
  }
}

/**
 * Stores a batch of predictions and updates their rollups in one transaction. Fast path: COPY straight into
 * predictions. If any row is already stored (a retried batch), the transaction is redone with one
 * INSERT … ON CONFLICT DO NOTHING, and only the rows actually inserted are counted in the rollups.
 */
export async function writePredictions(
  pool: pg.Pool,
  tenantId: string,
  batch: Prediction[],
  options: WriteOptions,
): Promise<WriteResult> {
  if (batch.length === 0) return { fresh: [], inserted: 0, duplicates: 0, rollupRows: 0 };
  return withPartitions(pool, () => writePredictionsOnce(pool, tenantId, batch, options));
}

async function writePredictionsOnce(
  pool: pg.Pool,
  tenantId: string,
  batch: Prediction[],
  options: WriteOptions,
): Promise<WriteResult> {
  const { bucketMs, enforceTenant } = options;
  const partitions = dayPartitionsFor(pool);
  // anchorRequests below sets every request's day and freshness again, so one plan serves both paths.
  const plan = planAnchors(batch);
  // A new request is anchored at its records' day; an existing one's day was made when it was anchored.
  await partitions.prepare(
    pool,
    plan.requests.map((a) => a.day),
  );
  const { client, release } = await checkOut(pool);
  try {
    await beginAs(client, tenantId, enforceTenant);
    // PostgreSQL refuses COPY into a table under row-level security, so the tenant path always inserts.
    if (!enforceTenant) {
      try {
        // Fast path: new requests and new rows, each table by COPY. A request or row already stored (a
        // retried batch, a shadow prediction after its served one) fails it, and the batch is redone below.
        await copyAnchors(client, tenantId, plan);
        const made = await partitions.ensure(client, tenantId, usedDays(plan.requests));
        // Postgres works on the COPY while this thread builds the batch's rollup deltas.
        const copying = copyInto(
          client,
          'predictions',
          predictionRows(tenantId, batch, plan.of, recordOrder(plan)),
        );
        const acc = new RollupAccumulator(bucketMs);
        for (const p of batch) acc.addPrediction(p);
        await copying;
        // Every request is new, so nothing of them is stored but this batch: no feedback to join, no served
        // prediction to pair, and no outcome lock (see lockOutcomes: a transaction writing the other side of
        // one of these requests waits for this one at its `requests` row, then reads what this one stored).
        return await finish(pool, client, tenantId, acc, () => partitions.remember(made), {
          fresh: batch.map(() => true),
          inserted: batch.length,
          duplicates: 0,
        });
      } catch (err) {
        if ((err as { code?: string }).code !== '23505') throw err;
        await rollback(client);
        await beginAs(client, tenantId, enforceTenant);
      }
    }
    await anchorRequests(client, tenantId, plan);
    const made = await partitions.ensure(client, tenantId, usedDays(plan.requests));
    const inserted = await insertViaArrays(client, tenantId, batch, plan.of);
    const acc = new RollupAccumulator(bucketMs);
    for (const p of inserted) acc.addPrediction(p);
    const insertedKeys = new Set(inserted.map(key));
    const anchorOf = new Map(batch.map((p, i) => [p, plan.of[i]!]));
    // Only a request stored before this transaction can have feedback: feedback anchors its request too.
    const older = [...new Set(inserted.map((p) => anchorOf.get(p)!).filter((a) => !a.fresh))];
    await lockOutcomes(client, tenantId, older);
    const known = await feedbackOf(client, tenantId, older);
    await addOutcomes(
      client,
      tenantId,
      acc,
      known,
      (p) => insertedKeys.has(key(p)),
      (p) => insertedKeys.has(key(p)),
    );
    const stored = new Set(inserted);
    return await finish(pool, client, tenantId, acc, () => partitions.remember(made), {
      fresh: batch.map((p) => stored.has(p)),
      inserted: inserted.length,
      duplicates: batch.length - inserted.length,
    });
  } catch (err) {
    await rollback(client).catch(() => undefined);
    release(err);
    throw err;
  } finally {
    release();
  }
}

/** The end of a write: segment and metric rollups, commit, and what the caches learnt. */
async function finish(
  pool: pg.Pool,
  client: pg.PoolClient,
  tenantId: string,
  acc: RollupAccumulator,
  learnt: () => void,
  result: Omit<WriteResult, 'rollupRows'>,
): Promise<WriteResult> {
  const registry = segmentRegistryFor(pool);
  const segments = await writeSegmentRollups(client, tenantId, acc.segments, registry);
  const deltas = acc.entries();
  await upsertRollups(client, tenantId, deltas);
  await commit(client);
  registry.remember(segments.learnt);
  learnt();
  return { ...result, rollupRows: deltas.length };
}

/** The (model, day) pairs of the requests, for day partitions and `raw_data_days`. */
function usedDays(anchors: readonly Anchor[]): Array<{ model: string; day: string }> {
  const used = new Map<string, { model: string; day: string }>();
  let last: Anchor | undefined;
  for (const a of anchors) {
    // Neighbours in the plan's order mostly share model and day: skip building their key again.
    if (last && last.model === a.model && last.day === a.day) continue;
    last = a;
    used.set(`${a.model}\u0000${a.day}`, { model: a.model, day: a.day });
  }
  return [...used.values()];
}

async function feedbackOf(
  client: pg.PoolClient,
  tenantId: string,
  requests: readonly Anchor[],
): Promise<Array<{ model: string; requestId: string; actual: unknown; day: string }>> {
  if (requests.length === 0) return [];
  const days = requests.map((r) => r.day);
  const { rows } = await client.query<{ model: string; request_id: string; actual: unknown; day: string }>(
    `select f.model, f.request_id, f.actual, f.day::text
       from feedback f
       join unnest($2::text[], $3::text[], $4::date[]) as r(model, request_id, day)
         on f.model = r.model and f.request_id = r.request_id and f.day = r.day
      where f.tenant_id = $1 and f.day = any($5::date[])`,
    [tenantId, requests.map((r) => r.model), requests.map((r) => r.requestId), days, [...new Set(days)]],
  );
  return rows.map((k) => ({ model: k.model, requestId: k.request_id, actual: k.actual, day: k.day }));
}

/**
 * Stores a batch of feedback (the first actual per request wins) and adds the outcome metrics of every
 * prediction of those requests to the rollups of the prediction's time bucket, however late it arrives.
 */
export async function writeFeedback(
  pool: pg.Pool,
  tenantId: string,
  batch: Feedback[],
  options: WriteOptions,
): Promise<WriteResult> {
  if (batch.length === 0) return { fresh: [], inserted: 0, duplicates: 0, rollupRows: 0 };
  return withPartitions(pool, () => writeFeedbackOnce(pool, tenantId, batch, options));
}

async function writeFeedbackOnce(
  pool: pg.Pool,
  tenantId: string,
  batch: Feedback[],
  options: WriteOptions,
): Promise<WriteResult> {
  const { bucketMs, enforceTenant } = options;
  const partitions = dayPartitionsFor(pool);
  const plan = planAnchors(batch);
  await partitions.prepare(
    pool,
    plan.requests.map((a) => a.day),
  );
  const { client, release } = await checkOut(pool);
  try {
    await beginAs(client, tenantId, enforceTenant);
    await anchorRequests(client, tenantId, plan);
    const made = await partitions.ensure(client, tenantId, usedDays(plan.requests));
    const { rows } = await client.query<{ model: string; request_id: string; actual: unknown; day: string }>(
      `insert into feedback (tenant_id, model, request_id, value, actual, at, day)
       select $1, model, request_id, value, actual, at, day
         from unnest($2::text[], $3::text[], $4::float8[], $5::jsonb[], $6::timestamptz[], $7::date[])
              as f(model, request_id, value, actual, at, day)
       on conflict (tenant_id, model, request_id, day) do nothing
       returning model, request_id, actual, day::text`,
      [
        tenantId,
        batch.map((f) => f.model),
        batch.map((f) => f.requestId),
        batch.map((f) => f.value),
        batch.map((f) => JSON.stringify(f.actual)),
        batch.map((f) => f.at.toISOString()),
        plan.of.map((a) => a.day),
      ],
    );
    // A request this transaction anchored has no predictions yet: they would have anchored it.
    const fresh = new Set(plan.requests.filter((a) => a.fresh).map((a) => requestKey(a.model, a.requestId)));
    const older = rows.filter((r) => !fresh.has(requestKey(r.model, r.request_id)));
    await lockOutcomes(
      client,
      tenantId,
      older.map((r) => ({ model: r.model, requestId: r.request_id })),
    );
    const acc = new RollupAccumulator(bucketMs);
    await addOutcomes(
      client,
      tenantId,
      acc,
      older.map((r) => ({ model: r.model, requestId: r.request_id, actual: r.actual, day: r.day })),
      () => true,
      () => true,
    );
    // The first occurrence of a request in the batch is the one stored, as with predictions.
    const stored = new Set(rows.map((r) => requestKey(r.model, r.request_id)));
    return await finish(pool, client, tenantId, acc, () => partitions.remember(made), {
      fresh: batch.map((f) => stored.delete(requestKey(f.model, f.requestId))),
      inserted: rows.length,
      duplicates: batch.length - rows.length,
    });
  } catch (err) {
    await rollback(client).catch(() => undefined);
    release(err);
    throw err;
  } finally {
    release();
  }
}
