import type pg from 'pg';
import { copyRows, csv } from './copy-csv.js';

/** The UTC day (`YYYY-MM-DD`) a time falls on: the partition a new request is anchored in. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

export const requestKey = (model: string, requestId: string): string => `${model}\u0000${requestId}`;

export interface Anchor {
  /** The request's day: the partition of all its predictions and its feedback. */
  day: string;
  /** This transaction stored the request first: nothing else of it (no feedback, no prediction) exists yet. */
  fresh: boolean;
}

interface Wanted {
  model: string;
  requestId: string;
  day: string;
}

/**
 * A batch's requests, each with the day of its earliest record here, in one fixed order (model, then request
 * id, by UTF-16 code units): every writer inserts requests in this order, so two transactions with
 * overlapping requests wait for each other the same way round and cannot deadlock.
 */
function wantedOf(records: ReadonlyArray<{ model: string; requestId: string; at: Date }>): Wanted[] {
  const earliest = new Map<string, Wanted>();
  for (const r of records) {
    const k = requestKey(r.model, r.requestId);
    const day = utcDay(r.at);
    const seen = earliest.get(k);
    if (!seen) earliest.set(k, { model: r.model, requestId: r.requestId, day });
    else if (day < seen.day) seen.day = day;
  }
  return [...earliest.values()].sort((a, b) =>
    a.model !== b.model
      ? a.model < b.model
        ? -1
        : 1
      : a.requestId < b.requestId
        ? -1
        : a.requestId > b.requestId
          ? 1
          : 0,
  );
}

/**
 * The fast path, for a batch of new requests (the usual prediction batch): COPY them into `requests`, the
 * cheapest insert PostgreSQL has. Fails with a unique violation (23505) if any of them is already stored
 * (or is being stored by another transaction, once that one commits); the caller then rolls back and takes
 * anchorRequests. Call inside the write transaction.
 */
export async function copyAnchors(
  client: pg.PoolClient,
  tenantId: string,
  records: ReadonlyArray<{ model: string; requestId: string; at: Date }>,
): Promise<Map<string, Anchor>> {
  const wanted = wantedOf(records);
  const tenant = csv(tenantId);
  let data = '';
  for (const w of wanted) data += `${tenant},${csv(w.model)},${csv(w.requestId)},${w.day}\n`;
  await copyRows(client, 'requests', ['tenant_id', 'model', 'request_id', 'day'], data);
  return new Map(wanted.map((w) => [requestKey(w.model, w.requestId), { day: w.day, fresh: true }]));
}

/**
 * The day of every request of a batch, anchoring new ones at the day of their earliest record here
 * (migration 20261204000013). Call inside the write transaction, before the rows are stored.
 *
 * New requests are inserted (in wantedOf's order) and returned; the others are read in a second statement,
 * which also sees a request another transaction committed while the insert waited for it (the insert's
 * snapshot predates that commit, so it would see the row neither inserted nor existing).
 */
export async function anchorRequests(
  client: pg.PoolClient,
  tenantId: string,
  records: ReadonlyArray<{ model: string; requestId: string; at: Date }>,
): Promise<Map<string, Anchor>> {
  const wanted = wantedOf(records);
  const anchors = new Map<string, Anchor>();
  const { rows } = await client.query<{ model: string; request_id: string; day: string }>(
    `insert into requests (tenant_id, model, request_id, day)
     select $1, model, request_id, day from unnest($2::text[], $3::text[], $4::date[]) as r(model, request_id, day)
     on conflict do nothing
     returning model, request_id, day::text`,
    [tenantId, wanted.map((w) => w.model), wanted.map((w) => w.requestId), wanted.map((w) => w.day)],
  );
  for (const r of rows) anchors.set(requestKey(r.model, r.request_id), { day: r.day, fresh: true });
  const missing = wanted.filter((w) => !anchors.has(requestKey(w.model, w.requestId)));
  if (missing.length > 0) {
    const { rows: stored } = await client.query<{ model: string; request_id: string; day: string }>(
      `select r.model, r.request_id, r.day::text from requests r
         join unnest($2::text[], $3::text[]) as i(model, request_id) using (model, request_id)
        where r.tenant_id = $1`,
      [tenantId, missing.map((w) => w.model), missing.map((w) => w.requestId)],
    );
    for (const r of stored) anchors.set(requestKey(r.model, r.request_id), { day: r.day, fresh: false });
  }
  for (const w of wanted) {
    // Unreachable unless the row vanished between the two statements (retention deleting an expired request).
    if (!anchors.has(requestKey(w.model, w.requestId)))
      throw Object.assign(new Error(`request ${w.requestId} of ${w.model} was removed while being written`), {
        code: '40001',
      });
  }
  return anchors;
}
