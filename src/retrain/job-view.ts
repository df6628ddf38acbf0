import type { RetrainJobRow } from './job-store.js';

/** A retraining job as people and clients read it (`arena retrain list/status --json`, the HTTP API). */
export function retrainJobView(r: RetrainJobRow) {
  return {
    jobId: r.id,
    model: r.model,
    trigger: r.trigger,
    status: r.status,
    backend: r.backend,
    candidate: r.candidate_version,
    metrics: r.metrics,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    /** When the candidate became champion (its rollout promoted it); null until then. */
    deployedAt: r.deployed_at ? r.deployed_at.toISOString() : null,
    seconds: r.started_at
      ? Math.round(((r.finished_at ?? new Date()).getTime() - r.started_at.getTime()) / 1000)
      : null,
  };
}

export type RetrainJobView = ReturnType<typeof retrainJobView>;
