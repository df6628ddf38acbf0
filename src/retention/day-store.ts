import type { Knex } from 'knex';
import { keepDaysOf, type ActiveRollout } from './plan.js';
import { parseMonitoringPolicy } from '../monitoring/policy.js';

/** The partitioned tables of raw rows (migration 20261204000013); each has one partition per day. */
const RAW_TABLES = ['predictions', 'feedback'] as const;

const partitionName = (table: string, day: string): string => `${table}_${day.replaceAll('-', '')}`;

export interface DayPartition {
  day: string;
  /** Bytes on disk of the day's predictions and feedback, indexes included. */
  bytes: number;
}

/** Every day that has a partition of predictions or of feedback, oldest first. */
export async function listDays(knex: Knex): Promise<DayPartition[]> {
  const { rows } = await knex.raw<{ rows: Array<{ name: string; bytes: string }> }>(
    `select c.relname as name, pg_total_relation_size(c.oid) as bytes
       from pg_inherits i join pg_class c on c.oid = i.inhrelid
      where i.inhparent in (${RAW_TABLES.map(() => '?::regclass').join(', ')})`,
    [...RAW_TABLES],
  );
  const byDay = new Map<string, number>();
  for (const r of rows) {
    const m = /_(\d{4})(\d{2})(\d{2})$/.exec(r.name);
    if (!m) continue;
    const day = `${m[1]}-${m[2]}-${m[3]}`;
    byDay.set(day, (byDay.get(day) ?? 0) + Number(r.bytes));
  }
  return [...byDay].map(([day, bytes]) => ({ day, bytes })).sort((a, b) => (a.day < b.day ? -1 : 1));
}

export async function modelsOnDays(
  knex: Knex,
  days: readonly string[],
): Promise<Map<string, Array<{ tenantId: string; model: string }>>> {
  const rows = (await knex('raw_data_days')
    .whereIn('day', days)
    .orderBy(['day', 'tenant_id', 'model'])
    .select(knex.raw('day::text as day'), 'tenant_id', 'model')) as Array<{
    day: string;
    tenant_id: string;
    model: string;
  }>;
  const out = new Map<string, Array<{ tenantId: string; model: string }>>();
  for (const r of rows) {
    const list = out.get(r.day) ?? [];
    list.push({ tenantId: r.tenant_id, model: r.model });
    out.set(r.day, list);
  }
  return out;
}

export async function activeRollouts(knex: Knex): Promise<ActiveRollout[]> {
  const rows = (await knex('rollouts')
    .whereNull('ended_at')
    .select('tenant_id', 'model', 'id', 'created_at')) as Array<{
    tenant_id: string;
    model: string;
    id: string;
    created_at: Date;
  }>;
  return rows.map((r) => ({ tenantId: r.tenant_id, model: r.model, id: r.id, since: r.created_at }));
}

/**
 * Days each model keeps, from its monitoring policy (`monitoring.retention`); a model with no registry entry
 * keeps the defaults, and one whose policy does not parse keeps everything until it is fixed.
 */
export async function retentionByModel(
  knex: Knex,
): Promise<(tenantId: string, model: string) => number | { unknown: string }> {
  const rows = (await knex('models').select('tenant_id', 'name', 'metadata')) as Array<{
    tenant_id: string;
    name: string;
    metadata: { monitoring?: unknown } | null;
  }>;
  const keep = new Map<string, number | { unknown: string }>();
  for (const r of rows) {
    try {
      const policy = parseMonitoringPolicy(r.metadata?.monitoring, `monitoring policy of ${r.name}`);
      keep.set(`${r.tenant_id}\u0000${r.name}`, keepDaysOf(policy.retention));
    } catch (err) {
      keep.set(`${r.tenant_id}\u0000${r.name}`, {
        unknown: `its monitoring policy is invalid (${(err as Error).message}), so its days are kept`,
      });
    }
  }
  const fallback = keepDaysOf(parseMonitoringPolicy(undefined).retention);
  return (tenantId, model) => keep.get(`${tenantId}\u0000${model}`) ?? fallback;
}

/** Rows of `requests` deleted per statement: each is a short transaction that ingestion does not wait on. */
const REQUEST_CHUNK = 20_000;

/**
 * Drops one day: first its requests (in chunks, so the day's anchors go while its rows still exist and no
 * write waits long on them), then its partitions. Safe to run again after any failure: every step finds its
 * work done or does it. Dropping a partition needs a brief exclusive lock on its parent table; if that lock
 * is not had within `lockTimeoutMs` (a long query holds the table), the day is left for the next run.
 */
export async function dropDay(
  knex: Knex,
  day: string,
  opts: { lockTimeoutMs: number; onProgress?: (deletedRequests: number) => void },
): Promise<{ dropped: boolean; requests: number; busy?: string }> {
  // The day becomes part of table names below.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`day must be YYYY-MM-DD, got ${JSON.stringify(day)}`);
  let requests = 0;
  for (;;) {
    const { rowCount } = await knex.raw<{ rowCount: number | null }>(
      'delete from requests where ctid = any(array(select ctid from requests where day = ?::date limit ?))',
      [day, REQUEST_CHUNK],
    );
    const n = rowCount ?? 0;
    requests += n;
    opts.onProgress?.(requests);
    if (n < REQUEST_CHUNK) break;
  }
  try {
    await knex.transaction(async (trx) => {
      await trx.raw(`set local lock_timeout = ${Math.max(1, Math.round(opts.lockTimeoutMs))}`);
      for (const table of RAW_TABLES) await trx.raw(`drop table if exists ${partitionName(table, day)}`);
      await trx('raw_data_days').where({ day }).delete();
    });
  } catch (err) {
    if ((err as { code?: string }).code !== '55P03') throw err;
    return { dropped: false, requests, busy: `a query held the raw tables past ${opts.lockTimeoutMs} ms` };
  }
  return { dropped: true, requests };
}
