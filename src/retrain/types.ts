/**
 * The contract between whatever decides that a model needs retraining (monitoring workflows, schedules,
 * a person) and the retraining workflow (workflows/retrain.ts). Types only: workflows import this file.
 */

export const RETRAIN_TRIGGERS = ['manual', 'schedule', 'drift', 'degradation'] as const;
export type RetrainTrigger = (typeof RETRAIN_TRIGGERS)[number];

/** retraining_jobs.status, in lifecycle order; the last three are final. */
export const RETRAIN_STATUSES = [
  'pending',
  'running',
  'validation',
  'deploying',
  'completed',
  'failed',
  'rolled_back',
] as const;
export type RetrainStatus = (typeof RETRAIN_STATUSES)[number];

/** A job in one of these has ended; its status no longer changes. */
export const FINAL_RETRAIN_STATUSES: readonly RetrainStatus[] = ['completed', 'failed', 'rolled_back'];

export interface RetrainInput {
  /** retraining_jobs.id; also names the workflow (see retrainWorkflowId). */
  jobId: string;
  tenantId: string;
  model: string;
  trigger: RetrainTrigger;
  /** One line a person can read: why this job exists. */
  reason: string;
  requestedBy: string;
  /** What fired the trigger (drift report ids and statistics, degradation figures), kept with the job. */
  evidence?: unknown;
}

/** Scheduled and manual retrains may auto-approve their rollout; drift and degradation always wait for a person. */
export function triggerNeedsHumanApproval(trigger: RetrainTrigger): boolean {
  return trigger === 'drift' || trigger === 'degradation';
}

/** One workflow per job; at most one running retrain per model is enforced by the starter, not the id. */
export function retrainWorkflowId(tenantId: string, model: string, jobId: string): string {
  return `retrain-${tenantId}-${model}-${jobId}`;
}
