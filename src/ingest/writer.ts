import type pg from 'pg';
import { lockOutcomes } from './advisory-locks.js';
import { copyInto, insertViaArrays, predictionCsv, predictionKey as key } from './prediction-insert.js';
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
  const { bucketMs, enforceTenant } = options;
  if (batch.length === 0) return { fresh: [], inserted: 0, duplicates: 0, rollupRows: 0 };
  const { client, release } = await checkOut(pool);
  try {
    let inserted: Prediction[] | undefined;
    await beginAs(client, tenantId, enforceTenant);
    // PostgreSQL refuses COPY into a table under row-level security, so the tenant path always inserts.
    let acc: RollupAccumulator | undefined;
    if (!enforceTenant) {
      try {
        // Postgres works on the COPY while this thread builds the batch's rollup deltas.
        const copying = copyInto(client, 'predictions', predictionCsv(tenantId, batch));
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
    inserted ??= await insertViaArrays(client, tenantId, batch);
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
    const { rows: known } = await client.query<{ model: string; request_id: string; actual: unknown }>(
      `select f.model, f.request_id, f.actual
         from feedback f
         join unnest($2::text[], $3::text[]) as r(model, request_id) on f.model = r.model and f.request_id = r.request_id
        where f.tenant_id = $1`,
      [tenantId, requests.map((r) => r.model), requests.map((r) => r.requestId)],
    );
    await addOutcomes(
      client,
      tenantId,
      acc,
      known.map((k) => ({ model: k.model, requestId: k.request_id, actual: k.actual })),
      (p) => insertedKeys.has(key(p)),
      (p) => insertedKeys.has(key(p)),
    );
    const registry = segmentRegistryFor(pool);
    const segments = await writeSegmentRollups(client, tenantId, acc.segments, registry);
    const deltas = acc.entries();
    await upsertRollups(client, tenantId, deltas);
    await commit(client);
    registry.remember(segments.learnt);
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
  const { bucketMs, enforceTenant } = options;
  if (batch.length === 0) return { fresh: [], inserted: 0, duplicates: 0, rollupRows: 0 };
  const { client, release } = await checkOut(pool);
  try {
    await beginAs(client, tenantId, enforceTenant);
    const { rows } = await client.query<{ model: string; request_id: string; actual: unknown }>(
      `insert into feedback (tenant_id, model, request_id, value, actual, at)
       select $1, model, request_id, value, actual, at
         from unnest($2::text[], $3::text[], $4::float8[], $5::jsonb[], $6::timestamptz[]) as f(model, request_id, value, actual, at)
       on conflict (tenant_id, model, request_id) do nothing
       returning model, request_id, actual`,
      [
        tenantId,
        batch.map((f) => f.model),
        batch.map((f) => f.requestId),
        batch.map((f) => f.value),
        batch.map((f) => JSON.stringify(f.actual)),
        batch.map((f) => f.at.toISOString()),
      ],
    );
    await lockOutcomes(
      client,
      tenantId,
      rows.map((r) => ({ model: r.model, requestId: r.request_id })),
    );
    const acc = new RollupAccumulator(bucketMs);
    await addOutcomes(
      client,
      tenantId,
      acc,
      rows.map((r) => ({ model: r.model, requestId: r.request_id, actual: r.actual })),
      () => true,
      () => true,
    );
    const registry = segmentRegistryFor(pool);
    const segments = await writeSegmentRollups(client, tenantId, acc.segments, registry);
    const deltas = acc.entries();
    await upsertRollups(client, tenantId, deltas);
    await commit(client);
    registry.remember(segments.learnt);
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
