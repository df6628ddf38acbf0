import { patched } from '@temporalio/workflow';
import { acts } from './activities.js';
import type { Rollout } from './state.js';

/** How a rollout ends without its challenger: the rollback of traffic and what becomes of the version. */

export function rollBackOnAbort(rollout: Rollout): Promise<void> {
  const abort = rollout.memory.abort!;
  return rollBack(rollout, 'aborted', abort.by, abort.reason ?? 'aborted', afterAbort(abort.reject));
}

/**
 * What becomes of the challenger when a rollout ends without it. Only the analysis (a failed gate, a breach
 * during the watch) or a person (an approver's rejection, an abort with `reject`) rejects a version, a
 * final status; an abort, a withdrawal, an expired approval or an inconclusive result leave it retryable
 * (`arena rollout retry`). Before this rule every such end rejected it (and a rollback during the watch left
 * it archived): histories from then replay as they ran.
 */
export type Outcome = 'reject' | 'retryable';
const LEGACY = 'abort-keeps-version';

export function keptUnlessLegacy(): Outcome {
  return patched(LEGACY) ? 'retryable' : 'reject';
}

export function afterAbort(reject: boolean | undefined): Outcome {
  return reject === true ? 'reject' : keptUnlessLegacy();
}

/**
 * Ends the rollout with the champion it started from serving all traffic: during the watch (the challenger
 * already promoted) that champion is promoted back; before it the challenger is settled as `outcome` says.
 */
export async function rollBack(
  rollout: Rollout,
  finalState: 'rolled_back' | 'aborted',
  actor: string,
  reason: string,
  outcome: Outcome,
): Promise<void> {
  const { input, memory: m } = rollout;
  await rollout.record({ to: 'rolling_back', actor, reason });
  // Traffic first: the champion serves everything before anything else is recorded.
  await acts.setRouting({
    model: input.model,
    change:
      m.phase === 'watching'
        ? { challenger: null, mode: 'off', weightBp: 0 }
        : { challenger: null, mode: 'off', weightBp: 0, shadow: [] },
    actor,
    reason,
    idempotencyKey: `${input.rolloutId}:rollback:routing`,
  });
  if (m.phase === 'watching') {
    await acts.promoteChampion({
      model: input.model,
      version: m.previousChampion,
      actor,
      reason: `rollback: ${reason}`,
      idempotencyKey: `${input.rolloutId}:rollback:champion`,
    });
    // The demoted version is archived by the promotion; a rejection moves it on (legacy: left archived).
    if (outcome === 'reject' && patched(LEGACY)) await settleChallenger(rollout, 'reject', actor, reason);
  } else {
    await settleChallenger(rollout, outcome, actor, reason);
  }
  await rollout.alert({
    type: 'rollback_executed',
    severity: 'critical',
    title: `${input.model} ${input.challenger} rolled back: ${reason}`,
    details: { actor, reason, lastAnalysis: m.lastAnalysis },
    dedupeKey: `${input.rolloutId}:rollback`,
  });
  m.decision = finalState === 'aborted' ? `aborted by ${actor}: ${reason}` : `rolled back: ${reason}`;
  m.phase = 'done';
  await rollout.record({ to: finalState, actor, reason });
}

/** Ends a rollout that never started its stages. */
export async function finish(
  rollout: Rollout,
  state: 'rejected' | 'expired' | 'aborted',
  actor: string,
  reason: string,
  outcome: Outcome,
): Promise<void> {
  await settleChallenger(rollout, outcome, actor, reason);
  const m = rollout.memory;
  m.decision = reason;
  m.phase = 'done';
  await rollout.record({ to: state, actor, reason });
}

/** The challenger will not serve: rejected (a final status), or a candidate again that may be retried. */
async function settleChallenger(
  rollout: Rollout,
  outcome: Outcome,
  actor: string,
  reason: string,
): Promise<void> {
  await acts.setVersionStatus({
    model: rollout.input.model,
    version: rollout.input.challenger,
    to: outcome === 'reject' ? 'rejected' : 'candidate',
    actor,
    reason,
  });
}
