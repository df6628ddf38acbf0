import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { UnknownModelError } from '../errors.js';
import { UserFacingError } from '../errors.js';
import { parseTrainingConfig } from './training-config.js';
import { RETRAIN_TRIGGERS, retrainWorkflowId, type RetrainInput, type RetrainTrigger } from './types.js';
import type { retrainWorkflow } from '../../workflows/retrain.js';

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
 * The retraining_jobs row (pending) and the workflow's input. Refuses a second active job for the model:
 * two retrains racing to register and roll out candidates of one model help nobody.
 */
export async function createRetrainJob(knex: Knex, req: RetrainRequest): Promise<RetrainInput> {
  const tenantId = req.tenantId ?? 'default';
  if (!RETRAIN_TRIGGERS.includes(req.trigger))
    throw new UserFacingError(
      `--trigger=${JSON.stringify(req.trigger)}: must be one of ${RETRAIN_TRIGGERS.join(', ')}`,
      'e.g. --trigger manual',
    );
  const model = (await knex('models').where({ tenant_id: tenantId, name: req.model }).first('metadata')) as
    { metadata: { training?: unknown } } | undefined;
  if (!model) throw new UnknownModelError(req.model);
  if (!model.metadata.training)
    throw new UserFacingError(
      `Model ${req.model} has no training configuration`,
      `Set one first: arena retrain configure ${req.model} --config training.yaml (see docs/retraining.md)`,
    );
  const config = parseTrainingConfig(model.metadata.training, `training configuration of ${req.model}`);
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
  await knex.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`retrain:${tenantId}:${req.model}`]);
    const existing = (await trx('retraining_jobs').where({ id: jobId }).first('id')) as
      { id: string } | undefined;
    if (existing) return;
    const active = (await trx('retraining_jobs')
      .where({ tenant_id: tenantId, model: req.model })
      .whereIn('status', ['pending', 'running', 'validation', 'deploying'])
      .orderBy('created_at', 'desc')
      .first('id', 'status', 'candidate_version')) as
      { id: string; status: string; candidate_version: string | null } | undefined;
    // A job that is deploying holds the model's one active rollout: a second candidate trained now could not
    // start its own rollout, so the job would fail after its whole training run. Refuse it up front instead.
    if (active?.status === 'deploying') {
      const rollout = (await trx('rollouts')
        .where({ tenant_id: tenantId, model: req.model, challenger: active.candidate_version ?? '' })
        .orderBy('created_at', 'desc')
        .first('id')) as { id: string } | undefined;
      const ref = rollout?.id ?? 'ROLLOUT';
      throw new UserFacingError(
        `A retraining job of ${req.model} (${active.id}) is deploying candidate ${active.candidate_version ?? '?'}` +
          (rollout ? ` through rollout ${rollout.id}` : ''),
        `A model has one active rollout at a time: wait for it (arena rollout status ${ref}) or end it ` +
          `(arena rollout abort ${ref} --by YOU --reason TEXT), then retrain.`,
      );
    }
    if (active)
      throw new UserFacingError(
        `A retraining job of ${req.model} is already running (${active.id})`,
        `Wait for it (arena retrain status ${active.id}) or cancel it (arena retrain cancel ${active.id}).`,
      );
    await trx('retraining_jobs').insert({
      id: jobId,
      tenant_id: tenantId,
      model: req.model,
      trigger: req.trigger,
      status: 'pending',
      backend: config.backend,
      params: JSON.stringify({
        reason: req.reason,
        requestedBy: req.requestedBy,
        evidence: req.evidence ?? null,
      }),
      workflow_id: retrainWorkflowId(tenantId, req.model, jobId),
    });
  });
  return input;
}

/** Creates the job and starts its workflow (`arena retrain`, schedules through their wrapper, tests). */
export async function startRetrain(
  knex: Knex,
  temporal: { client: Client; taskQueue: string },
  req: RetrainRequest,
): Promise<{ jobId: string; workflowId: string }> {
  const input = await createRetrainJob(knex, req);
  const workflowId = retrainWorkflowId(input.tenantId, input.model, input.jobId);
  await temporal.client.workflow.start<typeof retrainWorkflow>('retrainWorkflow', {
    taskQueue: temporal.taskQueue,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `Retrain ${input.model} (${input.trigger})`,
  });
  return { jobId: input.jobId, workflowId };
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
  try {
    const input = await createRetrainJob(knex, req);
    return { input, note: `retraining job ${input.jobId} started` };
  } catch (err) {
    if (err instanceof UserFacingError) return { input: null, note: err.message };
    throw err;
  }
}
