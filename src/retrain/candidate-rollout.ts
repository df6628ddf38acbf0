import type { Knex } from 'knex';
import { InvalidInputError } from '../errors.js';
import type { PolicyInput } from '../policy/policy.js';
import { prepareRollout, type PreparedRollout } from '../rollout/prepare.js';
import { retrainFailure } from './failure.js';
import type { TrainingConfig } from './training-config.js';
import { triggerNeedsHumanApproval, type RetrainInput } from './types.js';

/**
 * The configured rollout policy, approval settled by the trigger: drift and degradation always wait for a
 * person, scheduled and manual retrains skip approval when the configuration says so.
 */
export function candidateRolloutPolicy(config: TrainingConfig, input: RetrainInput): PolicyInput {
  const base = (config.rollout.policy ?? {}) as PolicyInput;
  const required = !(config.rollout.autoApprove && !triggerNeedsHumanApproval(input.trigger));
  return { ...base, approval: { ...(base.approval ?? {}), required } };
}

/** The candidate's rollout, checked and named after the job (so a retried step prepares the same one). */
export async function prepareCandidateRollout(
  knex: Knex,
  args: {
    input: RetrainInput;
    config: TrainingConfig;
    version: string;
    workflowIdPrefix: string | undefined;
  },
): Promise<PreparedRollout> {
  const { input } = args;
  try {
    return await prepareRollout(
      knex,
      input.tenantId,
      {
        model: input.model,
        challenger: args.version,
        policy: candidateRolloutPolicy(args.config, input),
        proposedBy: `retrain:${input.jobId}`,
        rolloutId: `${input.model}-retrain-${input.jobId}`,
      },
      args.workflowIdPrefix,
    );
  } catch (err) {
    if (err instanceof InvalidInputError) retrainFailure('InvalidInputError', err.message);
    throw err;
  }
}
