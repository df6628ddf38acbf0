import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PreparedRollout } from '../src/rollout/prepare.js';
import { candidateVersion } from '../src/retrain/candidate-version.js';
import { prepareCandidateRollout } from '../src/retrain/candidate-rollout.js';
import { RetrainFailure, retrainFailure } from '../src/retrain/failure.js';
import { getRetrainJob } from '../src/retrain/job-store.js';
import { recordRetrainStatus, type RetrainStatusChange } from '../src/retrain/job-status.js';
import { loadTrainingConfig } from '../src/retrain/model-training-config.js';
import { registerCandidate } from '../src/retrain/register-candidate.js';
import type { TrainingConfig } from '../src/retrain/training-config.js';
import { trainCandidate, type TrainedCandidate } from '../src/retrain/training-run.js';
import { resolveTrainingWindow, type TrainingWindow } from '../src/retrain/training-window.js';
import type { RetrainInput } from '../src/retrain/types.js';
import { validateCandidate } from '../src/retrain/validation-run.js';
import type { ValidationOutcome } from '../src/retrain/validation.js';
import type { ActivityDeps } from './deps.js';

export type { TrainedCandidate } from '../src/retrain/training-run.js';
export type { ValidationOutcome } from '../src/retrain/validation.js';

/**
 * A job's own bad configuration or a failed run does not improve by retrying the activity: a
 * RetrainFailure becomes a non-retryable ApplicationFailure of its type, which the workflow matches on.
 */
async function reported<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (!(err instanceof RetrainFailure)) throw err;
    throw ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable: true,
      details: err.details ? [err.details] : [],
    });
  }
}

/**
 * Retraining: status records, running the model's training command (heartbeating, cancellable), validating
 * the candidate against the champion on a holdout, registering it with its lineage and preparing its
 * rollout. Every write is keyed by the job id, so a retried activity changes nothing the second time.
 */
export function retrainActivities({ knex, artifacts, rolloutWorkflowPrefix }: ActivityDeps) {
  const store = (): NonNullable<ActivityDeps['artifacts']> =>
    artifacts ?? retrainFailure('ConfigurationError', 'this worker has no artifact store configured');
  /**
   * The trigger's own window if the configuration has one, else `window`. Anchored on the job's creation, so
   * every attempt (and the validation) uses the same dates.
   */
  const jobWindow = async (input: RetrainInput, config: TrainingConfig): Promise<TrainingWindow | null> => {
    const window = config.windows?.[input.trigger] ?? config.window;
    if (!window) return null;
    const job = await getRetrainJob(knex, input.jobId);
    if (!job) retrainFailure('UnknownJobError', `no retraining job ${input.jobId}`);
    return resolveTrainingWindow(window, job.created_at);
  };

  return {
    recordRetrainStatus: (change: RetrainStatusChange): Promise<void> =>
      reported(async () => {
        const outcome = await recordRetrainStatus(knex, change);
        if (outcome === 'unknown_job')
          retrainFailure('UnknownJobError', `no retraining job ${change.input.jobId}`);
      }),

    runTraining: (input: RetrainInput): Promise<TrainedCandidate> =>
      reported(async () => {
        const config = await loadTrainingConfig(knex, input.tenantId, input.model);
        const version = await candidateVersion(knex, input);
        const window = await jobWindow(input, config);
        const ctx = Context.current();
        return trainCandidate({
          input,
          config,
          version,
          window,
          artifacts: store,
          host: {
            heartbeat: (details) => ctx.heartbeat(details),
            signal: ctx.cancellationSignal,
            cancelled: () => ctx.cancelled,
          },
        });
      }),

    validateCandidate: (args: {
      input: RetrainInput;
      candidate: TrainedCandidate;
    }): Promise<ValidationOutcome> =>
      reported(async () => {
        const config = await loadTrainingConfig(knex, args.input.tenantId, args.input.model);
        return validateCandidate({ knex, config, artifacts: store, ...args });
      }),

    registerCandidate: (args: {
      input: RetrainInput;
      candidate: TrainedCandidate;
      validation: ValidationOutcome;
    }): Promise<string> => registerCandidate(knex, args),

    prepareRetrainRollout: (args: { input: RetrainInput; version: string }): Promise<PreparedRollout> =>
      reported(async () => {
        const config = await loadTrainingConfig(knex, args.input.tenantId, args.input.model);
        return prepareCandidateRollout(knex, { ...args, config, workflowIdPrefix: rolloutWorkflowPrefix });
      }),
  };
}
