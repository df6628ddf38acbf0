import type pg from 'pg';
import { lockOutcomes } from './advisory-locks.js';
import { dayPartitionsFor, isMissingPartition, type Learnt } from './day-partitions.js';
import { copyInto, insertViaArrays, predictionCsv, predictionKey as key } from './prediction-insert.js';
import { anchorRequests, copyAnchors, requestKey, utcDay, type Anchor } from './request-anchors.js';
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
  // A new request is anchored at its records' day; an existing one's day was made when it was anchored.
  await partitions.prepare(
    pool,
    batch.map((p) => utcDay(p.at)),
  );
  const { client, release } = await checkOut(pool);
  try {
    let inserted: Prediction[] | undefined;
    await beginAs(client, tenantId, enforceTenant);
    let anchors = new Map<string, Anchor>();
    const dayOf = (p: Prediction): string => anchors.get(requestKey(p.model, p.requestId))!.day;
    let made: Learnt | undefined;
    // PostgreSQL refuses COPY into a table under row-level security, so the tenant path always inserts.
    let acc: RollupAccumulator | undefined;
    if (!enforceTenant) {
      try {
        // Fast path: new requests and new rows, each table by COPY. A request or row already stored (a
        // retried batch, a shadow prediction after its served one) fails it, and the batch is redone below.
        anchors = await copyAnchors(client, tenantId, batch);
        made = await partitions.ensure(client, tenantId, usedDays(batch, dayOf));
        // Postgres works on the COPY while this thread builds the batch's rollup deltas.
        const copying = copyInto(client, 'predictions', predictionCsv(tenantId, batch, dayOf));
        acc = new RollupAccumulator(bucketMs);
        for (const p of batch) acc.addPrediction(p);
        await copying;
        inserted = batch;
      } catch (err) {
        acc = undefined;
        if ((err as { code?: string }).code !== '23505') throw err;
        await rollback(client);
        await beginAs(client, tenantId, enforceTenant);
      }
    }
    if (!inserted) {
      anchors = await anchorRequests(client, tenantId, batch);
      made = await partitions.ensure(client, tenantId, usedDays(batch, dayOf));
      inserted = await insertViaArrays(client, tenantId, batch, dayOf);
    }
    if (!acc) {
      acc = new RollupAccumulator(bucketMs);
      for (const p of inserted) acc.addPrediction(p);
    }
    const insertedKeys = new Set(inserted.map(key));
    const requests = [
      ...new Map(
        inserted.map((p) => [`${p.model}\u0000${p.requestId}`, { model: p.model, requestId: p.requestId }]),
      ).values(),
    ];
    await lockOutcomes(client, tenantId, requests);
    // Only a request stored before this transaction can have feedback: feedback anchors its request too.
    const older = requests.filter((r) => !anchors.get(requestKey(r.model, r.requestId))!.fresh);
    const known = await feedbackOf(client, tenantId, older, anchors);
    await addOutcomes(
      client,
      tenantId,
      acc,
      known,
      (p) => insertedKeys.has(key(p)),
      (p) => insertedKeys.has(key(p)),
    );
    const registry = segmentRegistryFor(pool);
    const segments = await writeSegmentRollups(client, tenantId, acc.segments, registry);
    const deltas = acc.entries();
    await upsertRollups(client, tenantId, deltas);
    await commit(client);
    registry.remember(segments.learnt);
    if (made) partitions.remember(made);
    const stored = new Set(inserted);
    return {
      fresh: batch.map((p) => stored.has(p)),
      inserted: inserted.length,
      duplicates: batch.length - inserted.length,
      rollupRows: deltas.length,
    };
  } catch (err) {
    await rollback(client).catch(() => undefined);
    release(err);
    throw err;
  } finally {
    release();
  }
}

function usedDays<T extends { model: string }>(
  records: readonly T[],
  dayOf: (r: T) => string,
): Array<{ model: string; day: string }> {
  const used = new Map<string, { model: string; day: string }>();
  for (const r of records) {
    const day = dayOf(r);
    used.set(`${r.model}\u0000${day}`, { model: r.model, day });
  }
  return [...used.values()];
}

async function feedbackOf(
  client: pg.PoolClient,
  tenantId: string,
  requests: Array<{ model: string; requestId: string }>,
  anchors: Map<string, Anchor>,
): Promise<Array<{ model: string; requestId: string; actual: unknown; day: string }>> {
  if (requests.length === 0) return [];
  const days = requests.map((r) => anchors.get(requestKey(r.model, r.requestId))!.day);
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
  await partitions.prepare(
    pool,
    batch.map((f) => utcDay(f.at)),
  );
  const { client, release } = await checkOut(pool);
  try {
    await beginAs(client, tenantId, enforceTenant);
    const anchors = await anchorRequests(client, tenantId, batch);
    const dayOf = (f: Feedback): string => anchors.get(requestKey(f.model, f.requestId))!.day;
    const made = await partitions.ensure(client, tenantId, usedDays(batch, dayOf));
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
        batch.map(dayOf),
      ],
    );
    await lockOutcomes(
      client,
      tenantId,
      rows.map((r) => ({ model: r.model, requestId: r.request_id })),
    );
    const acc = new RollupAccumulator(bucketMs);
    // A request this transaction anchored has no predictions yet: they would have anchored it.
    await addOutcomes(
      client,
      tenantId,
      acc,
      rows
        .filter((r) => !anchors.get(requestKey(r.model, r.request_id))!.fresh)
        .map((r) => ({ model: r.model, requestId: r.request_id, actual: r.actual, day: r.day })),
      () => true,
      () => true,
    );
    const registry = segmentRegistryFor(pool);
    const segments = await writeSegmentRollups(client, tenantId, acc.segments, registry);
    const deltas = acc.entries();
    await upsertRollups(client, tenantId, deltas);
    await commit(client);
    registry.remember(segments.learnt);
    partitions.remember(made);
    // The first occurrence of a request in the batch is the one stored, as with predictions.
    const fresh = new Set(rows.map((r) => `${r.model}\u0000${r.request_id}`));
    return {
      fresh: batch.map((f) => fresh.delete(`${f.model}\u0000${f.requestId}`)),
      inserted: rows.length,
      duplicates: batch.length - rows.length,
      rollupRows: deltas.length,
    };
  } catch (err) {
    await rollback(client).catch(() => undefined);
    release(err);
    throw err;
  } finally {
    release();
  }
}
