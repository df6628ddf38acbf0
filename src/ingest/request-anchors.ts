import type pg from 'pg';
import { BinaryRows, copyBinary } from './copy-binary.js';

const DAY_MS = 86_400_000;
/** Day names by day number and back: a batch spans a day or two, and toISOString per record showed in profiles. */
const dayNames = new Map<number, string>();
const dayNumbers = new Map<string, number>();

/** The UTC day (`YYYY-MM-DD`) a time falls on: the partition a new request is anchored in. */
export function utcDay(at: Date): string {
  const n = Math.floor(at.getTime() / DAY_MS);
  let name = dayNames.get(n);
  if (name === undefined) {
    // A hostile spread of times could fill the cache; it is only a cache.
    if (dayNames.size >= 4_096) {
      dayNames.clear();
      dayNumbers.clear();
    }
    name = new Date(n * DAY_MS).toISOString().slice(0, 10);
    dayNames.set(n, name);
    dayNumbers.set(name, n);
  }
  return name;
}

/** Days since 1970-01-01 of a `YYYY-MM-DD` day. */
export function epochDay(day: string): number {
  return dayNumbers.get(day) ?? Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS);
}

/** One request of a batch: its key, and its day once anchored. */
export interface Anchor {
  model: string;
  requestId: string;
  /** The request's day: the partition of all its predictions and its feedback. */
  day: string;
  /** This transaction stored the request first: nothing else of it (no feedback, no prediction) exists yet. */
  fresh: boolean;
  /** Its place in the plan's order. */
  rank: number;
}

export interface AnchorPlan {
  /**
   * The batch's requests, each once, with the day of its earliest record here (until anchored), in one fixed
   * order (model, then request id, by UTF-16 code units): every writer inserts requests in this order, so two
   * transactions with overlapping requests wait for each other the same way round and cannot deadlock.
   */
  requests: Anchor[];
  /** Per record of the batch, in order: its request (an element of `requests`). */
  of: Anchor[];
}

/**
 * The plan of a batch's anchors, before the write transaction. Each record is looked up once here; later
 * steps reach its request by index (`of[i]`), which keeps per-record string keys and map lookups off the
 * recorder's hot path.
 */
export function planAnchors(
  records: ReadonlyArray<{ model: string; requestId: string; at: Date }>,
): AnchorPlan {
  const byKey = new Map<string, Anchor>();
  const of: Anchor[] = new Array<Anchor>(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    // Model names cannot hold U+0000 (records.ts refuses it), so this key sorts as (model, request id).
    const key = `${r.model}\u0000${r.requestId}`;
    const day = utcDay(r.at);
    let a = byKey.get(key);
    if (!a) byKey.set(key, (a = { model: r.model, requestId: r.requestId, day, fresh: false, rank: 0 }));
    else if (day < a.day) a.day = day;
    of[i] = a;
  }
  // The default sort compares strings by UTF-16 code units without calling back into JavaScript.
  const keys = [...byKey.keys()].sort();
  const requests = keys.map((k, rank) => {
    const a = byKey.get(k)!;
    a.rank = rank;
    return a;
  });
  return { requests, of };
}

/**
 * The batch's record indices in the plan's order (a counting sort by rank): rows written in key order land
 * on neighbouring pages of the tables' B-trees instead of all over them.
 */
export function recordOrder(plan: AnchorPlan): Uint32Array {
  const next = new Uint32Array(plan.requests.length + 1);
  for (const a of plan.of) next[a.rank + 1]! += 1;
  for (let r = 1; r < next.length; r++) next[r]! += next[r - 1]!;
  const order = new Uint32Array(plan.of.length);
  for (let i = 0; i < plan.of.length; i++) order[next[plan.of[i]!.rank]!++] = i;
  return order;
}

/**
 * The fast path, for a batch of new requests (the usual prediction batch): COPY them into `requests`, the
 * cheapest insert PostgreSQL has, and mark them fresh. Fails with a unique violation (23505) if any of them is
 * already stored (or is being stored by another transaction, once that one commits); the caller then rolls
 * back and takes anchorRequests on a new plan. Call inside the write transaction.
 */
export async function copyAnchors(client: pg.PoolClient, tenantId: string, plan: AnchorPlan): Promise<void> {
  const rows = new BinaryRows();
  for (const a of plan.requests)
    rows.row(4).text(tenantId).text(a.model).text(a.requestId).date(epochDay(a.day));
  await copyBinary(client, 'requests', ['tenant_id', 'model', 'request_id', 'day'], rows.finish());
  for (const a of plan.requests) a.fresh = true;
}

/**
 * The day of every request of a batch, anchoring new ones at the day of their earliest record here
 * (migration 20261204000013); fills in the plan's days and freshness. Call inside the write transaction,
 * before the rows are stored.
 *
 * New requests are inserted (in the plan's order); the others are read in a second statement, which also
 * sees a request another transaction committed while the insert waited for it (the insert's snapshot
 * predates that commit, so it would see the row neither inserted nor existing).
 */
export async function anchorRequests(
  client: pg.PoolClient,
  tenantId: string,
  plan: AnchorPlan,
): Promise<void> {
  const wanted = plan.requests;
  const byKey = new Map(wanted.map((a) => [requestKey(a.model, a.requestId), a]));
  const { rows } = await client.query<{ model: string; request_id: string; day: string }>(
    `insert into requests (tenant_id, model, request_id, day)
     select $1, model, request_id, day from unnest($2::text[], $3::text[], $4::date[]) as r(model, request_id, day)
     on conflict do nothing
     returning model, request_id, day::text`,
    [tenantId, wanted.map((a) => a.model), wanted.map((a) => a.requestId), wanted.map((a) => a.day)],
  );
  const anchored = new Set<Anchor>();
  const set = (model: string, requestId: string, day: string, fresh: boolean): void => {
    const a = byKey.get(requestKey(model, requestId))!;
    a.day = day;
    a.fresh = fresh;
    anchored.add(a);
  };
  for (const r of rows) set(r.model, r.request_id, r.day, true);
  const missing = wanted.filter((a) => !anchored.has(a));
  if (missing.length > 0) {
    const { rows: stored } = await client.query<{ model: string; request_id: string; day: string }>(
      `select r.model, r.request_id, r.day::text from requests r
         join unnest($2::text[], $3::text[]) as i(model, request_id) using (model, request_id)
        where r.tenant_id = $1`,
      [tenantId, missing.map((a) => a.model), missing.map((a) => a.requestId)],
    );
    for (const r of stored) set(r.model, r.request_id, r.day, false);
  }
  for (const a of wanted) {
    // Unreachable unless the row vanished between the two statements (retention deleting an expired request).
    if (!anchored.has(a))
      throw Object.assign(new Error(`request ${a.requestId} of ${a.model} was removed while being written`), {
        code: '40001',
      });
  }
}

export const requestKey = (model: string, requestId: string): string => `${model}\u0000${requestId}`;
