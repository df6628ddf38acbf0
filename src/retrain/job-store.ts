import type { Knex } from 'knex';
import { FINAL_RETRAIN_STATUSES, type RetrainStatus, type RetrainTrigger } from './types.js';

/** The only module that reads or writes the `retraining_jobs` table. */

type Db = Knex | Knex.Transaction;

export interface RetrainJobRow {
  id: string;
  tenant_id: string;
  model: string;
  trigger: RetrainTrigger;
  status: RetrainStatus;
  backend: string;
  params: { reason?: string; requestedBy?: string; evidence?: unknown };
  metrics: { improvement?: number; candidate?: { mae: number }; champion?: { mae: number } } | null;
  candidate_version: string | null;
  error: string | null;
  workflow_id: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  /** When its candidate became champion (set as the job completes). */
  deployed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** Statuses of a job that has not ended: a model has at most one such job. */
export const ACTIVE_RETRAIN_STATUSES: readonly RetrainStatus[] = [
  'pending',
  'running',
  'validation',
  'deploying',
];

export interface NewRetrainJob {
  id: string;
  tenantId: string;
  model: string;
  trigger: RetrainTrigger;
  backend: string;
  params: { reason: string; requestedBy: string; evidence: unknown };
  workflowId: string;
}

export type RetrainJobInsert =
  | { outcome: 'inserted' }
  /** A job with this id exists already (a retried request). */
  | { outcome: 'exists' }
  /** Another job of the model has not ended; nothing was written. */
  | { outcome: 'busy'; active: Pick<RetrainJobRow, 'id' | 'status' | 'candidate_version'> };

/**
 * Inserts a pending job unless the model already has an active one. Serialised per model by an advisory
 * lock, so two requests racing for the same model cannot both insert.
 */
export async function insertRetrainJobUnlessBusy(knex: Knex, job: NewRetrainJob): Promise<RetrainJobInsert> {
  return knex.transaction(async (trx): Promise<RetrainJobInsert> => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`retrain:${job.tenantId}:${job.model}`]);
    const existing = (await trx('retraining_jobs').where({ id: job.id }).first('id')) as
      { id: string } | undefined;
    if (existing) return { outcome: 'exists' };
    const active = (await trx('retraining_jobs')
      .where({ tenant_id: job.tenantId, model: job.model })
      .whereIn('status', ACTIVE_RETRAIN_STATUSES)
      .orderBy('created_at', 'desc')
      .first('id', 'status', 'candidate_version')) as
      Pick<RetrainJobRow, 'id' | 'status' | 'candidate_version'> | undefined;
    if (active) return { outcome: 'busy', active };
    await trx('retraining_jobs').insert({
      id: job.id,
      tenant_id: job.tenantId,
      model: job.model,
      trigger: job.trigger,
      status: 'pending',
      backend: job.backend,
      params: JSON.stringify(job.params),
      workflow_id: job.workflowId,
    });
    return { outcome: 'inserted' };
  });
}

/** One job; with `tenantId`, only that tenant's (the CLI, an operator's tool, reads every tenant's). */
export async function getRetrainJob(
  db: Db,
  jobId: string,
  tenantId?: string,
): Promise<RetrainJobRow | undefined> {
  const q = db('retraining_jobs').where({ id: jobId });
  if (tenantId !== undefined) void q.where({ tenant_id: tenantId });
  return (await q.first()) as RetrainJobRow | undefined;
}

/** Newest first, at most `limit`; of every tenant unless `tenantId` is given. */
export async function listRetrainJobs(
  db: Db,
  filter: { model?: string | undefined; limit: number; tenantId?: string },
): Promise<RetrainJobRow[]> {
  const q = db('retraining_jobs').orderBy('created_at', 'desc').limit(filter.limit);
  if (filter.model) void q.where({ model: filter.model });
  if (filter.tenantId !== undefined) void q.where({ tenant_id: filter.tenantId });
  return (await q) as RetrainJobRow[];
}

/** Oldest first. */
export async function retrainJobsOfModelBetween(
  db: Db,
  tenantId: string,
  model: string,
  from: Date,
  to: Date,
): Promise<RetrainJobRow[]> {
  return (await db('retraining_jobs')
    .where({ tenant_id: tenantId, model })
    .whereBetween('created_at', [from, to])
    .orderBy('created_at')) as RetrainJobRow[];
}

/** The job's status, its row locked until the transaction ends (status changes are serialised per job). */
export async function lockRetrainJobStatus(
  trx: Knex.Transaction,
  jobId: string,
): Promise<RetrainStatus | undefined> {
  const row = (await trx('retraining_jobs').where({ id: jobId }).forUpdate().first('status')) as
    { status: RetrainStatus } | undefined;
  return row?.status;
}

/** Sets the status with its timestamps: `running` starts the clock, a final status stops it. */
export async function updateRetrainJobStatus(
  trx: Knex.Transaction,
  jobId: string,
  change: {
    status: RetrainStatus;
    metrics?: unknown;
    candidateVersion?: string | undefined;
    error?: string | undefined;
  },
): Promise<void> {
  await trx('retraining_jobs')
    .where({ id: jobId })
    .update({
      status: change.status,
      updated_at: trx.fn.now(),
      ...(change.status === 'running' ? { started_at: trx.fn.now() } : {}),
      ...(FINAL_RETRAIN_STATUSES.includes(change.status) ? { finished_at: trx.fn.now() } : {}),
      ...(change.metrics !== undefined ? { metrics: JSON.stringify(change.metrics) } : {}),
      ...(change.candidateVersion ? { candidate_version: change.candidateVersion } : {}),
      ...(change.error ? { error: change.error } : {}),
    });
  // Completed means the candidate's rollout promoted it: it was deployed when it became champion.
  if (change.status === 'completed')
    await trx.raw(
      `update retraining_jobs j
          set deployed_at = coalesce(v.promoted_at, now())
         from model_versions v
        where j.id = ? and v.tenant_id = j.tenant_id and v.model = j.model and v.version = j.candidate_version`,
      [jobId],
    );
}
