import { defineSearchAttributeKey } from '@temporalio/common';
import {
  ActivityFailure,
  CancellationScope,
  ChildWorkflowFailure,
  defineQuery,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { raiseAndNotify } from './alerting.js';
import { startRolloutChild } from './start-rollout.js';
import type { TrainedCandidate, ValidationOutcome } from '../activities/retrain.js';
import { triggerNeedsHumanApproval, type RetrainInput, type RetrainStatus } from '../src/retrain/types.js';
import type { RolloutStatus } from '../src/rollout/types.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';

/** Polls for the child rollout's row: a few fast tries first, since the child writes it at once. */
const untilRecorded = proxyActivities<Pick<Activities, 'awaitRolloutRecorded'>>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '100 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 12,
  },
});

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

/**
 * Training is long work in another process. The activity heartbeats while the job shows progress, so a
 * dead worker is noticed within the heartbeat timeout and the job retried elsewhere (attempts 2); a failed
 * or hung job is not retried (its failure is non-retryable). The heartbeat timeout also bounds how long a
 * cancellation takes to reach the activity: the worker sends heartbeats at most every 80 % of it.
 */
const training = proxyActivities<Activities>({
  // A backstop above the longest `timeout` a training configuration may set (12 h); the job's own is tighter.
  startToCloseTimeout: '13 hours',
  heartbeatTimeout: '10 seconds',
  cancellationType: 'WAIT_CANCELLATION_COMPLETED',
  retry: { maximumAttempts: 2, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

export interface RetrainView {
  jobId: string;
  model: string;
  trigger: RetrainInput['trigger'];
  status: RetrainStatus;
  candidate: string | null;
  validation: ValidationOutcome | null;
  rolloutId: string | null;
  error: string | null;
}

export const retrainStatusQuery = defineQuery<RetrainView>('status');

const SA_MODEL = defineSearchAttributeKey('ArenaModel', 'KEYWORD');
const SA_STATE = defineSearchAttributeKey('ArenaState', 'KEYWORD');

/** The retrain outcomes that notify (docs/operations.md, "Day 2"). */
const RETRAIN_EVENTS: Partial<
  Record<RetrainStatus, { type: string; severity: 'info' | 'warning'; verb: string }>
> = {
  completed: { type: 'retrain_completed', severity: 'info', verb: 'completed; its candidate was promoted' },
  failed: { type: 'retrain_failed', severity: 'warning', verb: 'failed' },
  rolled_back: {
    type: 'retrain_rolled_back',
    severity: 'warning',
    verb: "ended: its candidate's rollout did not promote",
  },
};

function messageOf(err: unknown): string {
  if (err instanceof ChildWorkflowFailure || err instanceof ActivityFailure)
    return messageOf(err.cause) || err.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * pending → running → validation → deploying → completed | failed | rolled_back. The candidate enters the
 * same rollout lifecycle as any version: scheduled and manual retrains may start it already approved,
 * drift and degradation retrains always wait for a person (and raise an alert saying so).
 */
export async function retrainWorkflow(input: RetrainInput): Promise<RetrainView> {
  const view: RetrainView = {
    jobId: input.jobId,
    model: input.model,
    trigger: input.trigger,
    status: 'pending',
    candidate: null,
    validation: null,
    rolloutId: null,
    error: null,
  };
  setHandler(retrainStatusQuery, () => view, {
    description:
      'The retraining job as it stands: status, candidate version, validation figures, its rollout and any error. Takes no input.',
  });
  const move = async (
    status: RetrainStatus,
    extra: { metrics?: unknown; candidateVersion?: string; error?: string } = {},
  ) => {
    view.status = status;
    upsertSearchAttributes([{ key: SA_STATE, value: `retrain:${status}` }]);
    setCurrentDetails(
      [
        `**Retrain ${input.model}** (${input.trigger}): ${status}`,
        view.candidate ? `candidate ${view.candidate}` : '',
        view.validation ? view.validation.reason : '',
        view.rolloutId ? `rollout ${view.rolloutId}` : '',
        view.error ?? '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
    // Recording the final status must happen even when the workflow itself is being cancelled.
    await CancellationScope.nonCancellable(() => acts.recordRetrainStatus({ input, status, ...extra }));
    const event = RETRAIN_EVENTS[status];
    // Histories recorded before lifecycle notifications replay without them.
    if (event && patched('lifecycle-notifications'))
      await CancellationScope.nonCancellable(() =>
        raiseAndNotify({
          tenantId: input.tenantId,
          type: event.type,
          severity: event.severity,
          model: input.model,
          rolloutId: view.rolloutId,
          title: `${input.model}: retrain ${input.jobId} (${input.trigger}) ${event.verb}${view.error ? `: ${view.error}` : ''}`,
          details: {
            jobId: input.jobId,
            trigger: input.trigger,
            candidate: view.candidate,
            error: view.error,
            figures: {
              trigger: input.trigger,
              ...(view.candidate ? { candidate: view.candidate } : {}),
              ...(view.validation ? { validation: view.validation.reason } : {}),
              ...(view.error ? { reason: view.error } : {}),
            },
          },
          dedupeKey: `retrain:${input.jobId}:${status}`,
        }),
      );
  };
  upsertSearchAttributes([{ key: SA_MODEL, value: input.model }]);

  let candidate: TrainedCandidate;
  try {
    await move('running');
    candidate = await training.runTraining(input);
  } catch (err) {
    view.error = isCancellation(err) ? 'cancelled' : messageOf(err);
    await move('failed', { error: view.error });
    return view;
  }

  await move('validation');
  let validation: ValidationOutcome;
  try {
    validation = await acts.validateCandidate({ input, candidate });
  } catch (err) {
    view.error = messageOf(err);
    await move('failed', { error: view.error });
    return view;
  }
  view.validation = validation;
  if (!validation.passed) {
    view.error = validation.reason;
    await move('failed', { metrics: validation, error: validation.reason });
    return view;
  }

  const version = await acts.registerCandidate({ input, candidate, validation });
  view.candidate = version;
  const prepared = await acts.prepareRetrainRollout({ input, version });
  view.rolloutId = prepared.args.rolloutId;
  await move('deploying', { metrics: validation, candidateVersion: version });

  let rollout;
  try {
    rollout = await startRolloutChild(prepared);
  } catch (err) {
    view.error = `could not start the rollout: ${messageOf(err)}`;
    await move('failed', { metrics: validation, candidateVersion: version, error: view.error });
    return view;
  }
  if (triggerNeedsHumanApproval(input.trigger)) {
    // The alert names the rollout; people act on it through the rollout's row, which the child writes in
    // its first activity. Histories from before this wait raised the alert at once.
    if (patched('alert-after-rollout-recorded')) {
      try {
        await untilRecorded.awaitRolloutRecorded({
          tenantId: input.tenantId,
          rolloutId: prepared.args.rolloutId,
        });
      } catch (err) {
        // Still not recorded after about two minutes (Postgres down?): the alert goes out anyway, late
        // actions get "No rollout" with the hint to retry rather than no alert at all.
        if (!(err instanceof ActivityFailure)) throw err;
      }
    }
    await raiseAndNotify({
      tenantId: input.tenantId,
      type: 'promotion_pending',
      severity: 'warning',
      model: input.model,
      rolloutId: prepared.args.rolloutId,
      title: `${input.model} ${version}, retrained after ${input.trigger}, awaits approval to roll out`,
      details: {
        jobId: input.jobId,
        trigger: input.trigger,
        reason: input.reason,
        evidence: input.evidence ?? null,
        validation,
      },
      dedupeKey: `retrain:${input.jobId}:approval`,
    });
  }

  let final: RolloutStatus | null = null;
  try {
    final = (await rollout.result()) as RolloutStatus;
  } catch (err) {
    if (!(err instanceof ChildWorkflowFailure)) throw err;
    view.error = messageOf(err);
  }
  if (final?.state === 'promoted')
    await move('completed', { metrics: validation, candidateVersion: version });
  else {
    view.error = view.error ?? `rollout ended ${final?.state ?? 'with a failure'}: ${final?.decision ?? ''}`;
    await move('rolled_back', { metrics: validation, candidateVersion: version, error: view.error });
  }
  return view;
}
