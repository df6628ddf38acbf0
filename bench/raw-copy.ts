import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BinaryRows, copyBinary } from '../src/ingest/copy-binary.js';
import { predictionRecord } from './synthetic-traffic.js';

/**
 * The ingest benchmark's baselines (bench/ingest.ts): the synthetic rows through a bare COPY, in CSV and in
 * the binary format the recorder sends, and through one INSERT per record.
 */

function csvRow(i: number): string {
  const r = predictionRecord(i);
  // Each request's own day: the partition the recorder anchors it in (src/ingest/request-anchors.ts).
  return `default,"${r.requestId}",,${r.model},${r.version},served,"",${r.prediction},"${r.prediction}",${r.latencyMs},${r.error ? 't' : 'f'},,,,${r.at},${r.at.slice(0, 10)}\n`;
}

/**
 * The same rows through a bare COPY (no validation, no rollups): the ceiling the recorder is held to. With
 * `streams` > 1 the rows are split over that many connections copying at once (5,000-row chunks dealt out
 * in turn), to see whether more COPY streams would raise the ceiling on this machine.
 */
export async function rawCopy(
  pool: pg.Pool,
  table: string,
  start: number,
  n: number,
  streams = 1,
  format: 'csv' | 'binary' = 'csv',
): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: streams }, (_, s) =>
      copyChunks(pool, table, start + s * 5_000, start + n, streams, format),
    ),
  );
  return n / ((performance.now() - t0) / 1000);
}

const COPY_COLUMNS =
  'tenant_id, request_id, unit_id, model, version, role, rollout_id, value, prediction, latency_ms, error, error_code, metrics, features_hash, at, day';

/** The rows of csvRow in PostgreSQL's binary COPY format, which the recorder sends (src/ingest/copy-binary.ts). */
function binaryRows(first: number, end: number): Buffer {
  const out = new BinaryRows();
  for (let j = first; j < end; j++) {
    const r = predictionRecord(j);
    const at = new Date(r.at);
    out
      .row(16)
      .text('default')
      .text(r.requestId)
      .null()
      .text(r.model)
      .text(r.version)
      .text('served')
      .text('')
      .float8(r.prediction)
      .jsonb(String(r.prediction))
      .float8(r.latencyMs)
      .bool(r.error)
      .null()
      .null()
      .null()
      .timestamptz(at)
      .date(Math.floor(at.getTime() / 86_400_000));
  }
  return out.finish();
}

async function copyChunks(
  pool: pg.Pool,
  table: string,
  first: number,
  end: number,
  stride: number,
  format: 'csv' | 'binary',
): Promise<void> {
  const client = await pool.connect();
  try {
    for (let i = first; i < end; i += 5_000 * stride) {
      const last = Math.min(i + 5_000, end);
      if (format === 'binary') {
        await copyBinary(client, table, COPY_COLUMNS.split(', '), binaryRows(i, last));
        continue;
      }
      let data = '';
      for (let j = i; j < last; j++) data += csvRow(j);
      const stream = client.query(copyFrom(`COPY ${table} (${COPY_COLUMNS}) FROM STDIN WITH (FORMAT csv)`));
      await pipeline(Readable.from([data]), stream);
    }
  } finally {
    client.release();
  }
}

/** The seeds' per-request append: one INSERT per record, each awaited. */
export async function perRowInsert(pool: pg.Pool, table: string, start: number, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = start; i < start + n; i++) {
    const r = predictionRecord(i);
    await pool.query(
      `insert into ${table} (tenant_id, request_id, model, version, role, value, prediction, latency_ms, error, at, day) values ('default', $1, $2, $3, 'served', $4, $5, $6, $7, $8, $9)`,
      [
        r.requestId,
        r.model,
        r.version,
        r.prediction,
        JSON.stringify(r.prediction),
        r.latencyMs,
        r.error,
        r.at,
        r.at.slice(0, 10),
      ],
    );
  }
  return n / ((performance.now() - t0) / 1000);
}
