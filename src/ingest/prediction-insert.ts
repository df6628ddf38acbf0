import type pg from 'pg';
import { BinaryRows, copyBinary } from './copy-binary.js';
import type { Prediction } from './records.js';
import { epochDay, type Anchor } from './request-anchors.js';

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
  'segment',
  'at',
  'day',
] as const;

/**
 * The rows for COPY in binary form, in `order`; `anchors[i]` is row i's request, whose day is the row's
 * partition (src/ingest/request-anchors.ts). Column by column as PREDICTION_COLUMNS.
 */
export function predictionRows(
  tenantId: string,
  rows: Prediction[],
  anchors: readonly Anchor[],
  order: ArrayLike<number>,
): Buffer {
  const out = new BinaryRows();
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const p = rows[i]!;
    out
      .row(PREDICTION_COLUMNS.length)
      .text(tenantId)
      .text(p.requestId)
      .text(p.unitId)
      .text(p.model)
      .text(p.version)
      .text(p.role)
      .text(p.rolloutId)
      .float8(p.value)
      // A null prediction is the JSON value null, not a missing one.
      .jsonb(typeof p.prediction === 'number' ? String(p.prediction) : JSON.stringify(p.prediction))
      .float8(p.latencyMs)
      .bool(p.error)
      .text(p.errorCode)
      .jsonb(p.metrics ? JSON.stringify(p.metrics) : null)
      .text(p.featuresHash)
      .jsonb(p.features ? JSON.stringify(p.features) : null)
      .text(p.segment)
      .timestamptz(p.at)
      .date(epochDay(anchors[i]!.day));
  }
  return out.finish();
}

export async function copyInto(client: pg.PoolClient, table: string, data: Buffer): Promise<void> {
  await copyBinary(client, table, PREDICTION_COLUMNS, data);
}

/** A prediction's unique key (tenant aside) as one string, to match rows returned by the database. */
export const predictionKey = (p: Pick<Prediction, 'model' | 'requestId' | 'version' | 'role'>): string =>
  `${p.model}\u0000${p.requestId}\u0000${p.version}\u0000${p.role}`;

/**
 * One INSERT … SELECT FROM unnest(column arrays) … ON CONFLICT DO NOTHING: returns the records actually
 * stored. This is the path where COPY cannot be used (row-level security) or fails (a duplicate key). It
 * replaced COPY into a temporary staging table followed by INSERT … SELECT, which took three round trips
 * and truncated the staging table at every commit; measured on the gateway, that cost more per batch than
 * the rows themselves (docs/ingestion.md).
 */
export async function insertViaArrays(
  client: pg.PoolClient,
  tenantId: string,
  batch: Prediction[],
  anchors: readonly Anchor[],
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
            r.latency_ms, r.error, r.error_code, r.metrics, r.features_hash, r.features, r.segment, r.at, r.day
       from unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[],
                   $9::jsonb[], $10::float8[], $11::bool[], $12::text[], $13::jsonb[], $14::text[], $15::jsonb[],
                   $16::text[], $17::timestamptz[], $18::date[])
            with ordinality as r(request_id, unit_id, model, version, role, rollout_id, value, prediction,
                                 latency_ms, error, error_code, metrics, features_hash, features, segment, at,
                                 day, ord)
      order by r.ord
     on conflict (tenant_id, model, request_id, version, role, day) do nothing
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
      col((p) => p.segment),
      col((p) => p.at.toISOString()),
      batch.map((_, i) => anchors[i]!.day),
    ],
  );
  const fresh = new Set(
    rows.map((r) =>
      predictionKey({ model: r.model, requestId: r.request_id, version: r.version, role: r.role }),
    ),
  );
  // The first occurrence of a key in the batch is the one stored (rows are inserted in batch order).
  return batch.filter((p) => fresh.delete(predictionKey(p)));
}
