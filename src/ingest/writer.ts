import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { RollupAccumulator, outcomeMetrics, type RollupDelta } from './rollup-delta.js';
import type { Feedback, Prediction } from './records.js';
import { TENANT_ROLE } from '../db/migrations/20261122000001_initial_schema.js';

const PREDICTION_COLUMNS = [
  'tenant_id',
  'request_id',
  'unit_id',
  'model',
  'version',
  'role',
  'rollout_id',
  'value',
  'prediction',
  'latency_ms',
  'error',
  'error_code',
  'metrics',
  'features_hash',
  'features',
  'at',
] as const;

export interface WriteOptions {
  bucketMs: number;
  /**
   * Run the transaction as the `arena_tenant` role with `arena.tenant_id` set, so Postgres' row-level
   * security itself refuses rows of another tenant (the gateway does this; trusted workers need not).
   */
  enforceTenant?: boolean;
}

async function beginAs(
  client: pg.PoolClient,
  tenantId: string,
  enforceTenant: boolean | undefined,
): Promise<void> {
  if (!enforceTenant) {
    await client.query('begin');
    return;
  }
  // One round trip instead of three: every batch through the gateway starts this way, and each round trip
  // wakes a Postgres backend. Without parameters a query may hold several statements; the tenant id is
  // quoted by the driver.
  await client.query(
    `begin; set local role ${TENANT_ROLE}; select set_config('arena.tenant_id', ${client.escapeLiteral(tenantId)}, true)`,
  );
}

export interface WriteResult {
  /** Per record of the batch, in order: true when this write stored it, false when it was already stored. */
  fresh: boolean[];
  inserted: number;
  /** Records already stored (a retried batch, a repeated request): skipped and not counted again. */
  duplicates: number;
  rollupRows: number;
}

/** CSV field for COPY: NULL is an unquoted empty field, everything else is quoted with doubled quotes. */
function csv(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return `"${value.replace(/"/g, '""')}"`;
}

function predictionCsv(tenantId: string, rows: Prediction[]): string {
  const tenant = csv(tenantId);
  let out = '';
  for (const p of rows) {
    // Numbers need no quoting; ids and versions are quoted by csv() since they are caller-supplied text.
    const value = p.value === null ? '' : String(p.value);
    const prediction =
      typeof p.prediction === 'number' ? `"${p.prediction}"` : csv(JSON.stringify(p.prediction));
    out += `${tenant},${csv(p.requestId)},${csv(p.unitId)},${csv(p.model)},${csv(p.version)},${p.role},${csv(p.rolloutId)},${value},${prediction},${p.latencyMs === null ? '' : p.latencyMs},${p.error ? 't' : 'f'},${csv(p.errorCode)},${p.metrics ? csv(JSON.stringify(p.metrics)) : ''},${csv(p.featuresHash)},${p.features ? csv(JSON.stringify(p.features)) : ''},${p.at.toISOString()}\n`;
  }
  return out;
}

async function copyInto(client: pg.PoolClient, table: string, data: string): Promise<void> {
  const stream = client.query(
    copyFrom(`COPY ${table} (${PREDICTION_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT csv)`),
  );
  await pipeline(Readable.from([data]), stream);
}

const key = (p: Pick<Prediction, 'model' | 'requestId' | 'version' | 'role'>): string =>
  `${p.model}\u0000${p.requestId}\u0000${p.version}\u0000${p.role}`;

interface StoredPrediction {
  model: string;
  request_id: string;
  version: string;
  role: 'served' | 'shadow';
  rollout_id: string;
  value: number | null;
  prediction: unknown;
  error: boolean;
  at: Date;
}

function fromRow(r: StoredPrediction): Prediction {
  return {
    requestId: r.request_id,
    unitId: null,
    model: r.model,
    version: r.version,
    role: r.role,
    value: r.value,
    prediction: r.prediction,
    latencyMs: null,
    error: r.error,
    errorCode: null,
    metrics: null,
    featuresHash: null,
    features: null,
    rolloutId: r.rollout_id,
    at: r.at,
  };
}

/**
 * Outcome metrics and shadow pairs for requests whose actual is known. A shadow version's per-request
 * difference against the served version is counted exactly once: in the transaction that completes the
 * triple (served prediction, shadow prediction, actual), whichever of the three arrives last.
 */
async function addOutcomes(
  client: pg.PoolClient,
  tenantId: string,
  acc: RollupAccumulator,
  requests: Array<{ model: string; requestId: string; actual: unknown }>,
  isNew: (p: Prediction) => boolean,
  outcomeFor: (p: Prediction) => boolean,
): Promise<void> {
  if (requests.length === 0) return;
  const { rows } = await client.query<StoredPrediction>(
    `select p.model, p.request_id, p.version, p.role, p.rollout_id, p.value, p.prediction, p.error, p.at
       from predictions p
       join unnest($2::text[], $3::text[]) as r(model, request_id)
         on p.model = r.model and p.request_id = r.request_id
      where p.tenant_id = $1`,
    [tenantId, requests.map((r) => r.model), requests.map((r) => r.requestId)],
  );
  const byRequest = new Map<string, Prediction[]>();
  for (const row of rows) {
    const p = fromRow(row);
    const k = `${p.model}\u0000${p.requestId}`;
    const list = byRequest.get(k);
    if (list) list.push(p);
    else byRequest.set(k, [p]);
  }
  for (const request of requests) {
    const preds = byRequest.get(`${request.model}\u0000${request.requestId}`) ?? [];
    const metrics = new Map<Prediction, Record<string, number>>();
    for (const p of preds) {
      metrics.set(p, outcomeFor(p) ? acc.addOutcome(p, request.actual) : outcomeMetrics(p, request.actual));
    }
    for (const served of preds.filter((p) => p.role === 'served')) {
      for (const shadow of preds.filter((p) => p.role === 'shadow')) {
        if (!isNew(served) && !isNew(shadow)) continue;
        const s = metrics.get(served)!;
        const h = metrics.get(shadow)!;
        for (const name of Object.keys(h)) {
          if (name in s) acc.addPaired(shadow, name, h[name]! - s[name]!);
        }
      }
    }
  }
}

async function upsertRollups(client: pg.PoolClient, tenantId: string, deltas: RollupDelta[]): Promise<void> {
  // A few thousand parameters per statement at most: chunk so big batches stay under Postgres' limit.
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
        new Date(d.bucketStart).toISOString(),
        d.count,
        d.sum,
        d.sumSq,
        d.pairedCount,
        d.pairedSum,
        d.pairedSumSq,
        d.errorCount,
        d.min,
        d.max,
        JSON.stringify(d.histogram),
      );
      return `(${Array.from({ length: 17 }, (_, j) => `$${base + j + 1}`).join(',')})`;
    });
    await client.query(
      `insert into metric_rollups (tenant_id, model, rollout_id, version, role, metric, bucket_start, count, sum, sum_sq,
                                   paired_count, paired_sum, paired_sum_sq, error_count, min, max, histogram)
       values ${tuples.join(',')}
       on conflict (tenant_id, model, rollout_id, version, role, metric, bucket_start) do update set
         count = metric_rollups.count + excluded.count,
         sum = metric_rollups.sum + excluded.sum,
         sum_sq = metric_rollups.sum_sq + excluded.sum_sq,
         paired_count = metric_rollups.paired_count + excluded.paired_count,
         paired_sum = metric_rollups.paired_sum + excluded.paired_sum,
         paired_sum_sq = metric_rollups.paired_sum_sq + excluded.paired_sum_sq,
         error_count = metric_rollups.error_count + excluded.error_count,
         min = least(metric_rollups.min, excluded.min),
         max = greatest(metric_rollups.max, excluded.max),
         histogram = case when excluded.histogram = '{}'::jsonb then metric_rollups.histogram
                          else arena_hist_add(metric_rollups.histogram, excluded.histogram) end,
         updated_at = now()`,
      params,
    );
  }
}

/**
 * A pooled client for one write. While checked out, a client whose server goes away emits 'error'; without
 * a listener that ends the process (seen with `pg_ctl stop -m fast` during a COPY). The listener keeps the
 * process alive, and a failed client is destroyed rather than returned to the pool.
 */
async function checkOut(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: (err?: unknown) => void }> {
  const client = await pool.connect();
  const swallow = (): void => undefined;
  client.on('error', swallow);
  let released = false;
  return {
    client,
    release(err?: unknown) {
      if (released) return;
      released = true;
      client.off('error', swallow);
      client.release(err instanceof Error ? err : undefined);
    },
  };
}

/** Requests of a model fall into this many lock slots (see lockOutcomes). */
const OUTCOME_LOCK_SLOTS = 64;

/**
 * Serialises the part of a write that reads the other side of its requests (feedback for new predictions,
 * predictions for new feedback, the served prediction for a new shadow one) and counts the outcome, until
 * commit. Without it, two transactions that each insert one side of the same request at once (two
 * prediction batches of one recorder, or a feedback and its prediction through two gateway replicas) each
 * read before the other commits, and the outcome or shadow pair is counted by neither (found by the ingest
 * fuzz tests). The waiting transaction reads afterwards, in a fresh READ COMMITTED snapshot, what the other
 * committed.
 *
 * Transaction-scoped advisory locks, taken in one order so they cannot deadlock: one per (tenant, model,
 * slot), the slot being a hash of the request id modulo OUTCOME_LOCK_SLOTS. A lock per request would let
 * two batches of 5,000 exhaust PostgreSQL's shared lock table; one per model would make every single-record
 * gateway request of a model wait for every other one. With 64 slots a transaction
 * holds at most 64 locks per model, single records rarely meet, and large batches serialise here as their
 * rollup upserts already do on the same rows.
 */
async function lockOutcomes(
  client: pg.PoolClient,
  tenantId: string,
  requests: Array<{ model: string; requestId: string }>,
): Promise<void> {
  if (requests.length === 0) return;
  await client.query(
    `select pg_advisory_xact_lock(h)
       from (select distinct hashtextextended($1 || chr(1) || r.model || chr(1) || (abs(hashtext(r.request_id)::bigint) % $4)::text, 0) as h
               from unnest($2::text[], $3::text[]) as r(model, request_id)
              order by h) s`,
    [tenantId, requests.map((r) => r.model), requests.map((r) => r.requestId), OUTCOME_LOCK_SLOTS],
  );
}

async function commit(client: pg.PoolClient): Promise<void> {
  await client.query('commit');
}

async function rollback(client: pg.PoolClient): Promise<void> {
  await client.query('rollback');
}

/**
 * One INSERT … SELECT FROM unnest(column arrays) … ON CONFLICT DO NOTHING: returns the records actually
 * stored. This is the path where COPY cannot be used (row-level security) or fails (a duplicate key). It
 * replaced COPY into a temporary staging table followed by INSERT … SELECT, which took three round trips
 * and truncated the staging table at every commit; measured on the gateway, that cost more per batch than
 * the rows themselves (docs/ingestion.md).
 */
async function insertViaArrays(
  client: pg.PoolClient,
  tenantId: string,
  batch: Prediction[],
): Promise<Prediction[]> {
  const col = <T>(f: (p: Prediction) => T): T[] => batch.map(f);
  const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
  const { rows } = await client.query<{
    model: string;
    request_id: string;
    version: string;
    role: 'served' | 'shadow';
  }>(
    `insert into predictions (${PREDICTION_COLUMNS.join(', ')})
     select $1, r.request_id, r.unit_id, r.model, r.version, r.role, r.rollout_id, r.value, r.prediction,
            r.latency_ms, r.error, r.error_code, r.metrics, r.features_hash, r.features, r.at
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[],
                   $9::jsonb[], $10::float8[], $11::bool[], $12::text[], $13::jsonb[], $14::text[], $15::jsonb[],
                   $16::timestamptz[])
            with ordinality as r(request_id, unit_id, model, version, role, rollout_id, value, prediction,
                                 latency_ms, error, error_code, metrics, features_hash, features, at, ord)
      order by r.ord
     on conflict (tenant_id, model, request_id, version, role) do nothing
     returning model, request_id, version, role`,
    [
      tenantId,
      col((p) => p.requestId),
      col((p) => p.unitId),
      col((p) => p.model),
      col((p) => p.version),
      col((p) => p.role),
      col((p) => p.rolloutId),
      col((p) => p.value),
      // As COPY stores it: a null prediction is the JSON value null, not a missing one.
      col((p) => JSON.stringify(p.prediction)),
      col((p) => p.latencyMs),
      col((p) => p.error),
      col((p) => p.errorCode),
      col((p) => json(p.metrics)),
      col((p) => p.featuresHash),
      col((p) => json(p.features)),
      col((p) => p.at.toISOString()),
    ],
  );
  const fresh = new Set(
    rows.map((r) => key({ model: r.model, requestId: r.request_id, version: r.version, role: r.role })),
  );
  // The first occurrence of a key in the batch is the one stored (rows are inserted in batch order).
  return batch.filter((p) => fresh.delete(key(p)));
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
    const deltas = acc.entries();
    await upsertRollups(client, tenantId, deltas);
    await commit(client);
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
    const deltas = acc.entries();
    await upsertRollups(client, tenantId, deltas);
    await commit(client);
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
