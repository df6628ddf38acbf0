import type pg from 'pg';

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
 * Only requests stored before the transaction need it: for a request the transaction anchored itself, any
 * writer of its other side first waits at the request's `requests` row for this transaction to end
 * (request-anchors.ts), so the writers take no lock for them (writer.ts).
 *
 * Transaction-scoped advisory locks, taken in one order so they cannot deadlock: one per (tenant, model,
 * slot), the slot being a hash of the request id modulo OUTCOME_LOCK_SLOTS. A lock per request would let
 * two batches of 5,000 exhaust PostgreSQL's shared lock table; one per model would make every single-record
 * gateway request of a model wait for every other one. With 64 slots a transaction
 * holds at most 64 locks per model, single records rarely meet, and large batches serialise here as their
 * rollup upserts already do on the same rows.
 */
export async function lockOutcomes(
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
