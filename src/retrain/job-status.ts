import type { Knex } from 'knex';
import { appendAudit } from '../db/audit.js';
import { lockRetrainJobStatus, updateRetrainJobStatus } from './job-store.js';
import { FINAL_RETRAIN_STATUSES, type RetrainInput, type RetrainStatus } from './types.js';

export interface RetrainStatusChange {
  input: RetrainInput;
  status: RetrainStatus;
  metrics?: unknown;
  candidateVersion?: string;
  error?: string;
}

/**
 * Moves a job to a status, with its audit entry, once: a retried write after the job moved on, or a
 * second final status, changes nothing. `unknown_job` when there is no such job.
 */
export async function recordRetrainStatus(
  knex: Knex,
  change: RetrainStatusChange,
): Promise<'recorded' | 'unchanged' | 'unknown_job'> {
  const { input, status } = change;
  return knex.transaction(async (trx) => {
    const current = await lockRetrainJobStatus(trx, input.jobId);
    if (!current) return 'unknown_job';
    if (FINAL_RETRAIN_STATUSES.includes(current)) return 'unchanged';
    await updateRetrainJobStatus(trx, input.jobId, {
      status,
      metrics: change.metrics,
      candidateVersion: change.candidateVersion,
      error: change.error,
    });
    await appendAudit(trx, {
      tenantId: input.tenantId,
      actor: status === 'pending' ? input.requestedBy : 'arena',
      action: `retrain.${status}`,
      entityType: 'retraining_job',
      entityId: input.jobId,
      details: {
        model: input.model,
        trigger: input.trigger,
        reason: change.error ?? input.reason,
        ...(change.candidateVersion ? { candidate: change.candidateVersion } : {}),
        ...(change.metrics !== undefined ? { metrics: change.metrics } : {}),
      },
      idempotencyKey: `retrain:${input.jobId}:${status}`,
    });
    return 'recorded';
  });
}
