import type pg from 'pg';

/** The UTC day (`YYYY-MM-DD`) a time falls on: the partition a new request is anchored in. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

export const requestKey = (model: string, requestId: string): string => `${model}\u0000${requestId}`;

export interface Anchor {
  /** The request's day: the partition of all its predictions and its feedback. */
  day: string;
  /** This transaction stored the request first: nothing else of it (no feedback, no prediction) exists yet. */
  fresh: boolean;
}

/**
 * The day of every request of a batch, anchoring new ones at the day of their earliest record here
 * (migration 20261204000013). Call inside the write transaction, before the rows are stored.
 *
 * Requests are inserted in one fixed order (by model, then request id, in byte order), so that two
 * transactions with overlapping requests wait for each other in the same order and cannot deadlock. A
 * request another transaction stores meanwhile is read in a second statement: the first one's snapshot was
 * taken before that transaction committed, so it sees the row neither inserted nor existing.
 */
export async function anchorRequests(
  client: pg.PoolClient,
  tenantId: string,
  records: ReadonlyArray<{ model: string; requestId: string; at: Date }>,
): Promise<Map<string, Anchor>> {
  const earliest = new Map<string, { model: string; requestId: string; day: string }>();
  for (const r of records) {
    const k = requestKey(r.model, r.requestId);
    const day = utcDay(r.at);
    const seen = earliest.get(k);
    if (!seen) earliest.set(k, { model: r.model, requestId: r.requestId, day });
    else if (day < seen.day) seen.day = day;
  }
  const wanted = [...earliest.values()];
  const anchors = new Map<string, Anchor>();
  const { rows } = await client.query<{ model: string; request_id: string; day: string; fresh: boolean }>(
    `with input as (
       select model, request_id, day from unnest($2::text[], $3::text[], $4::date[]) as r(model, request_id, day)
     ), stored as (
       insert into requests (tenant_id, model, request_id, day)
       select $1, model, request_id, day from input order by model collate "C", request_id collate "C"
       on conflict do nothing
       returning model, request_id, day
     )
     select model, request_id, day::text, true as fresh from stored
     union all
     select r.model, r.request_id, r.day::text, false from requests r join input i using (model, request_id)
      where r.tenant_id = $1`,
    [tenantId, wanted.map((w) => w.model), wanted.map((w) => w.requestId), wanted.map((w) => w.day)],
  );
  for (const r of rows) anchors.set(requestKey(r.model, r.request_id), { day: r.day, fresh: r.fresh });
  const missing = wanted.filter((w) => !anchors.has(requestKey(w.model, w.requestId)));
  if (missing.length > 0) {
    const { rows: late } = await client.query<{ model: string; request_id: string; day: string }>(
      `select r.model, r.request_id, r.day::text from requests r
         join unnest($2::text[], $3::text[]) as i(model, request_id) using (model, request_id)
        where r.tenant_id = $1`,
      [tenantId, missing.map((w) => w.model), missing.map((w) => w.requestId)],
    );
    for (const r of late) anchors.set(requestKey(r.model, r.request_id), { day: r.day, fresh: false });
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
