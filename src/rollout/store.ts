import type { Knex } from 'knex';
import {
  FINAL_STATES,
  type AnalysisVerdict,
  type RolloutEvent,
  type RolloutInput,
  type RolloutState,
} from './types.js';

/**
 * The only module that reads or writes the `rollouts`, `rollout_events` and `analyses` tables. Every
 * write is keyed (rollout id; rollout id + sequence), so a retried caller writes once.
 */

type Db = Knex | Knex.Transaction;

export interface RolloutRow {
  id: string;
  tenant_id: string;
  model: string;
  champion: string | null;
  challenger: string;
  state: RolloutState;
  stage_index: number | null;
  /** The policy as stored when the rollout started (older rows may lack newer fields). */
  policy: unknown;
  proposed_by: string;
  decision: string | null;
  workflow_id: string;
  run_id: string | null;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
  /** The rollout this one retries; null for a first attempt (and rows from before migration 20261204000011). */
  retry_of: string | null;
}

export interface RolloutEventRow {
  id: number | string;
  tenant_id: string;
  rollout_id: string;
  seq: number;
  type: string;
  from_state: RolloutState | null;
  to_state: RolloutState | null;
  actor: string | null;
  reason: string | null;
  details: Record<string, unknown>;
  at: Date;
}

/**
 * The rollout's row, state `proposed`. Both the client that starts the workflow and the workflow's first
 * activity write it, whichever comes first; true when this call wrote it.
 */
export async function insertRollout(
  db: Db,
  row: { input: RolloutInput; workflowId: string; runId: string },
): Promise<boolean> {
  const { input } = row;
  const inserted = await db('rollouts')
    .insert({
      id: input.rolloutId,
      tenant_id: input.tenantId,
      model: input.model,
      champion: input.champion,
      challenger: input.challenger,
      state: 'proposed',
      policy: JSON.stringify(input.policy),
      proposed_by: input.proposedBy,
      workflow_id: row.workflowId,
      run_id: row.runId,
      retry_of: input.retryOf ?? null,
    })
    .onConflict('id')
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

export async function isRolloutRecorded(db: Db, tenantId: string, rolloutId: string): Promise<boolean> {
  return (await db('rollouts').where({ tenant_id: tenantId, id: rolloutId }).first('id')) !== undefined;
}

export async function getRolloutRow(
  db: Db,
  tenantId: string,
  rolloutId: string,
): Promise<RolloutRow | undefined> {
  return (await db('rollouts').where({ tenant_id: tenantId, id: rolloutId }).first()) as
    RolloutRow | undefined;
}

/** The workflow and its first run id, which names the whole continue-as-new chain of the rollout. */
export async function getRolloutRun(
  db: Db,
  tenantId: string,
  rolloutId: string,
): Promise<Pick<RolloutRow, 'workflow_id' | 'run_id'> | undefined> {
  return (await db('rollouts')
    .where({ tenant_id: tenantId, id: rolloutId })
    .first('workflow_id', 'run_id')) as Pick<RolloutRow, 'workflow_id' | 'run_id'> | undefined;
}

/** The model's newest rollout that has not ended. */
export async function activeRolloutOfModel(
  db: Db,
  tenantId: string,
  model: string,
): Promise<{ id: string } | undefined> {
  return (await db('rollouts')
    .where({ tenant_id: tenantId, model })
    .whereNull('ended_at')
    .orderBy('created_at', 'desc')
    .first('id')) as { id: string } | undefined;
}

/** The model's newest rollout, ended or not. */
export async function latestRolloutOfModel(
  db: Db,
  tenantId: string,
  model: string,
): Promise<Pick<RolloutRow, 'id' | 'state' | 'policy' | 'challenger' | 'ended_at'> | undefined> {
  return (await db('rollouts')
    .where({ tenant_id: tenantId, model })
    .orderBy('created_at', 'desc')
    .first('id', 'state', 'policy', 'challenger', 'ended_at')) as
    Pick<RolloutRow, 'id' | 'state' | 'policy' | 'challenger' | 'ended_at'> | undefined;
}

/** The newest rollout of the model that tried this challenger. */
export async function latestRolloutOfChallenger(
  db: Db,
  tenantId: string,
  model: string,
  challenger: string,
): Promise<{ id: string } | undefined> {
  return (await db('rollouts')
    .where({ tenant_id: tenantId, model, challenger })
    .orderBy('created_at', 'desc')
    .first('id')) as { id: string } | undefined;
}

/** Newest first, at most `limit`. */
export async function listRollouts(
  db: Db,
  tenantId: string,
  filter: { model?: string | undefined; active?: boolean | undefined; limit: number },
): Promise<RolloutRow[]> {
  const q = db('rollouts').where({ tenant_id: tenantId }).orderBy('created_at', 'desc').limit(filter.limit);
  if (filter.model) void q.where({ model: filter.model });
  if (filter.active) void q.whereNull('ended_at');
  return (await q) as RolloutRow[];
}

/** Oldest first. */
export async function rolloutsOfModelBetween(
  db: Db,
  tenantId: string,
  model: string,
  from: Date,
  to: Date,
): Promise<RolloutRow[]> {
  return (await db('rollouts')
    .where({ tenant_id: tenantId, model })
    .whereBetween('created_at', [from, to])
    .orderBy('created_at')) as RolloutRow[];
}

/** A subquery of the ids of the model's rollouts, for filtering other tables by model. */
export function rolloutIdsOfModel(knex: Knex, tenantId: string, model: string): Knex.QueryBuilder {
  return knex('rollouts').select('id').where({ tenant_id: tenantId, model });
}

/** A final state also ends the rollout, with the reason as its decision. */
export async function setRolloutState(
  trx: Knex.Transaction,
  rolloutId: string,
  change: { state: RolloutState; at: string; reason: string | null },
): Promise<void> {
  const final = FINAL_STATES.includes(change.state);
  await trx('rollouts')
    .where({ id: rolloutId })
    .update({
      state: change.state,
      updated_at: trx.fn.now(),
      ...(final ? { ended_at: change.at, decision: change.reason } : {}),
    });
}

/** True when this call wrote the event (false: it was already recorded under its sequence number). */
export async function insertRolloutEvent(
  db: Db,
  row: RolloutEvent & { tenantId: string; rolloutId: string; details: Record<string, unknown> },
): Promise<boolean> {
  const inserted = await db('rollout_events')
    .insert({
      tenant_id: row.tenantId,
      rollout_id: row.rolloutId,
      seq: row.seq,
      type: row.type,
      from_state: row.from,
      to_state: row.to,
      actor: row.actor,
      reason: row.reason,
      details: JSON.stringify(row.details),
      at: row.at,
    })
    .onConflict(['rollout_id', 'seq'])
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/** In sequence order. */
export async function listRolloutEvents(
  db: Db,
  tenantId: string,
  rolloutId: string,
): Promise<RolloutEventRow[]> {
  return (await db('rollout_events')
    .where({ tenant_id: tenantId, rollout_id: rolloutId })
    .orderBy('seq')) as RolloutEventRow[];
}

/**
 * Stores an analysis under its sequence number and returns the stored one: a retry whose verdict is
 * already there gets that one back, so the workflow sees what was recorded. No read first: with many
 * rollouts there are thousands of analyses a minute.
 */
export async function storeAnalysis(
  db: Db,
  tenantId: string,
  rolloutId: string,
  verdict: AnalysisVerdict,
): Promise<AnalysisVerdict> {
  const inserted = await db('analyses')
    .insert({
      tenant_id: tenantId,
      rollout_id: rolloutId,
      seq: verdict.seq,
      stage_index: verdict.stageIndex,
      decision: verdict.decision,
      result: JSON.stringify(verdict),
    })
    .onConflict(['rollout_id', 'seq'])
    .ignore()
    .returning('seq');
  if (inserted.length > 0) return verdict;
  const stored = (await db('analyses')
    .where({ tenant_id: tenantId, rollout_id: rolloutId, seq: verdict.seq })
    .first('result')) as { result: AnalysisVerdict };
  return stored.result;
}

/** When the rollout's first failing analysis was stored (its first breach), or null if none failed. */
export async function firstFailingAnalysisAt(
  db: Db,
  tenantId: string,
  rolloutId: string,
): Promise<Date | null> {
  const row = (await db('analyses')
    .where({ tenant_id: tenantId, rollout_id: rolloutId, decision: 'fail' })
    .min({ at: 'at' })
    .first()) as { at: Date | null } | undefined;
  return row?.at ?? null;
}

export async function latestAnalysis(
  db: Db,
  tenantId: string,
  rolloutId: string,
): Promise<AnalysisVerdict | null> {
  const row = (await db('analyses')
    .where({ tenant_id: tenantId, rollout_id: rolloutId })
    .orderBy('seq', 'desc')
    .first('result')) as { result: AnalysisVerdict } | undefined;
  return row?.result ?? null;
}

/** In sequence order. */
export async function listAnalyses(db: Db, tenantId: string, rolloutId: string): Promise<AnalysisVerdict[]> {
  const rows = (await db('analyses')
    .where({ tenant_id: tenantId, rollout_id: rolloutId })
    .orderBy('seq')
    .select('result')) as Array<{ result: AnalysisVerdict }>;
  return rows.map((r) => r.result);
}
