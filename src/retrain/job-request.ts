import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { UnknownModelError, UserFacingError } from '../errors.js';
import { latestRolloutOfChallenger } from '../rollout/store.js';
import { insertRetrainJobUnlessBusy } from './job-store.js';
import { storedTrainingConfig } from './model-training-config.js';
import { parseTrainingConfig, type TrainingConfig } from './training-config.js';
import { RETRAIN_TRIGGERS, retrainWorkflowId, type RetrainInput, type RetrainTrigger } from './types.js';

export interface RetrainRequest {
  tenantId?: string;
  model: string;
  trigger: RetrainTrigger;
  reason: string;
  requestedBy: string;
  evidence?: unknown;
  /** A caller that may retry (a monitoring activity) passes a stable id; otherwise one is made. */
  jobId?: string;
}

/**
 * A created (or, for a repeated job id, already existing) job and its workflow's input; or why the model
 * cannot be retrained now, as the error a person would be shown.
 */
export type RetrainJobRequest =
  { created: true; input: RetrainInput } | { created: false; refusal: UserFacingError };

/**
 * The retraining_jobs row (pending) and the workflow's input. Refuses a second active job for the model:
 * two retrains racing to register and roll out candidates of one model help nobody.
 */
export async function requestRetrainJob(knex: Knex, req: RetrainRequest): Promise<RetrainJobRequest> {
  const tenantId = req.tenantId ?? 'default';
  const refused = (refusal: UserFacingError): RetrainJobRequest => ({ created: false, refusal });
  if (!RETRAIN_TRIGGERS.includes(req.trigger))
    return refused(
      new UserFacingError(
        `--trigger=${JSON.stringify(req.trigger)}: must be one of ${RETRAIN_TRIGGERS.join(', ')}`,
        'e.g. --trigger manual',
        { code: 'invalid_input' },
      ),
    );
  const stored = await storedTrainingConfig(knex, tenantId, req.model);
  if (stored.status === 'unknown_model') return refused(new UnknownModelError(req.model));
  if (stored.status === 'unconfigured')
    return refused(
      new UserFacingError(
        `Model ${req.model} has no training configuration`,
        `Set one first: arena retrain configure ${req.model} --config training.yaml (see docs/retraining.md)`,
        { code: 'conflict' },
      ),
    );
  let config: TrainingConfig;
  try {
    config = parseTrainingConfig(stored.raw, `training configuration of ${req.model}`);
  } catch (err) {
    if (err instanceof UserFacingError) return refused(err);
    throw err;
  }
  const jobId =
    req.jobId ??
    `${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
  const input: RetrainInput = {
    jobId,
    tenantId,
    model: req.model,
    trigger: req.trigger,
    reason: req.reason,
    requestedBy: req.requestedBy,
    ...(req.evidence !== undefined ? { evidence: req.evidence } : {}),
  };
  const insert = await insertRetrainJobUnlessBusy(knex, {
    id: jobId,
    tenantId,
    model: req.model,
    trigger: req.trigger,
    backend: config.backend,
    params: { reason: req.reason, requestedBy: req.requestedBy, evidence: req.evidence ?? null },
    workflowId: retrainWorkflowId(tenantId, req.model, jobId),
  });
  if (insert.outcome !== 'busy') return { created: true, input };
  const { active } = insert;
  // A job that is deploying holds the model's one active rollout: a second candidate trained now could not
  // start its own rollout, so the job would fail after its whole training run. Refuse it up front instead.
  if (active.status === 'deploying') {
    const rollout = await latestRolloutOfChallenger(
      knex,
      tenantId,
      req.model,
      active.candidate_version ?? '',
    );
    const ref = rollout?.id ?? 'ROLLOUT';
    return refused(
      new UserFacingError(
        `A retraining job of ${req.model} (${active.id}) is deploying candidate ${active.candidate_version ?? '?'}` +
          (rollout ? ` through rollout ${rollout.id}` : ''),
        `A model has one active rollout at a time: wait for it (arena rollout status ${ref}) or end it ` +
          `(arena rollout abort ${ref} --by YOU --reason TEXT), then retrain.`,
        { code: 'conflict' },
      ),
    );
  }
  return refused(
    new UserFacingError(
      `A retraining job of ${req.model} is already running (${active.id})`,
      `Wait for it (arena retrain status ${active.id}) or cancel it (arena retrain cancel ${active.id}).`,
      { code: 'conflict' },
    ),
  );
}

/** As requestRetrainJob, for a caller that shows a refusal to a person: it is thrown. */
export async function createRetrainJob(knex: Knex, req: RetrainRequest): Promise<RetrainInput> {
  const request = await requestRetrainJob(knex, req);
  if (!request.created) throw request.refusal;
  return request.input;
}

/**
 * For triggers (drift, degradation, schedules): the job, or — when the model cannot be retrained now
 * (one is already running, no training configuration) — null with the reason, which the caller records
 * instead of failing.
 */
export async function tryCreateRetrainJob(
  knex: Knex,
  req: RetrainRequest,
): Promise<{ input: RetrainInput | null; note: string }> {
  const request = await requestRetrainJob(knex, req);
  return request.created
    ? { input: request.input, note: `retraining job ${request.input.jobId} started` }
    : { input: null, note: request.refusal.message };
}
