import { ApplicationFailure, setHandler } from '@temporalio/workflow';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  promoteNowUpdate,
  rejectUpdate,
  resumeUpdate,
  statusQuery,
} from '../../src/rollout/messages.js';
import type { ActorInput, ApproveInput, RolloutState } from '../../src/rollout/types.js';
import type { Rollout } from './state.js';

/**
 * People in the loop: every action is an Update whose validator refuses it, with the reason, before
 * anything is recorded. The validators are exported so that other ways in (signals) can apply the same
 * rules.
 */

export type RolloutAction = 'approve' | 'reject' | 'pause' | 'resume' | 'abort' | 'promoteNow';

const inState =
  (...states: RolloutState[]) =>
  (r: Rollout): boolean =>
    states.includes(r.memory.state);
const awaitingApproval = (r: Rollout): boolean =>
  r.awaitingRolloutApproval() || r.awaitingPromotionApproval();

/** When each action is accepted, and what a refusal says otherwise. */
const ACCEPTED: Record<RolloutAction, { when: (r: Rollout) => boolean; otherwise: (r: Rollout) => string }> =
  {
    approve: {
      when: awaitingApproval,
      otherwise: (r) => `rollout ${r.id} is ${r.memory.state}; nothing awaits approval`,
    },
    reject: {
      when: awaitingApproval,
      otherwise: (r) => `rollout ${r.id} is ${r.memory.state}; nothing awaits approval to reject`,
    },
    pause: {
      when: inState('shadow', 'canary', 'deciding', 'watching'),
      otherwise: (r) => `cannot pause a rollout that is ${r.memory.state}`,
    },
    resume: { when: (r) => r.memory.paused, otherwise: () => 'not paused' },
    // Also during the watch, where it restores the previous champion: `arena rollback` is this action.
    abort: {
      when: (r) =>
        r.memory.phase !== 'done' &&
        r.memory.state !== 'rolling_back' &&
        !(r.memory.phase === 'watching' && r.watchHonoursAbort === false),
      otherwise: (r) =>
        r.memory.phase === 'watching' && r.watchHonoursAbort === false
          ? `rollout ${r.id} started before aborts during the watch were possible; restore the previous champion with \`arena model champion ${r.input.model} ${r.memory.previousChampion}\``
          : `rollout ${r.id} is already ${r.memory.state}`,
    },
    promoteNow: {
      when: inState('shadow', 'canary', 'deciding'),
      otherwise: (r) => `cannot promote a rollout that is ${r.memory.state}`,
    },
  };

const refuse = (message: string): never => {
  throw ApplicationFailure.create({ type: 'RolloutActionRefused', message, nonRetryable: true });
};
const requireActor = (a: ActorInput | ApproveInput): void => {
  if (!a || typeof a.by !== 'string' || a.by.trim() === '') refuse('`by` (who is acting) is required');
};
const requireAccepted = (action: RolloutAction, r: Rollout): void => {
  const rule = ACCEPTED[action];
  if (!rule.when(r)) refuse(rule.otherwise(r));
};

/** Each throws a non-retryable `RolloutActionRefused` failure when the action is not accepted now. */
export const validators = {
  approve(r: Rollout, a: ApproveInput): void {
    requireActor(a);
    requireAccepted('approve', r);
    const { approvers, allowProposerApproval } = r.policy.approval;
    if (approvers.length > 0 && !approvers.includes(a.by))
      refuse(`${a.by} is not an approver of this rollout (approvers: ${approvers.join(', ')})`);
    if (approvers.length === 0 && a.roles && !a.roles.includes('approver'))
      refuse(`${a.by} lacks the approver role`);
    if (!allowProposerApproval && a.by === r.input.proposedBy)
      refuse(`${a.by} proposed this rollout and may not approve it (separation of duties)`);
    const list = r.awaitingRolloutApproval() ? r.memory.approvals : r.memory.promotionApprovals;
    if (list.some((x) => x.by === a.by)) refuse(`${a.by} has already approved`);
  },
  reject(r: Rollout, a: ActorInput): void {
    requireActor(a);
    requireAccepted('reject', r);
  },
  pause(r: Rollout, a: ActorInput): void {
    requireActor(a);
    if (r.memory.paused) refuse('already paused');
    requireAccepted('pause', r);
  },
  resume(r: Rollout, a: ActorInput): void {
    requireActor(a);
    requireAccepted('resume', r);
  },
  abort(r: Rollout, a: ActorInput): void {
    requireActor(a);
    if (!a.reason || a.reason.trim() === '') refuse('a reason is required to abort');
    requireAccepted('abort', r);
  },
  promoteNow(r: Rollout, a: ActorInput): void {
    requireActor(a);
    requireAccepted('promoteNow', r);
  },
} satisfies Record<RolloutAction, (r: Rollout, a: ApproveInput & ActorInput) => void>;

export function registerHandlers(rollout: Rollout): void {
  setHandler(statusQuery, () => rollout.status());
  setHandler(approveUpdate, (a) => rollout.approve(a), { validator: (a) => validators.approve(rollout, a) });
  setHandler(rejectUpdate, (a) => rollout.reject(a), { validator: (a) => validators.reject(rollout, a) });
  setHandler(pauseUpdate, (a) => rollout.pause(a), { validator: (a) => validators.pause(rollout, a) });
  setHandler(resumeUpdate, (a) => rollout.resume(a), { validator: (a) => validators.resume(rollout, a) });
  setHandler(abortUpdate, (a) => rollout.abort(a), { validator: (a) => validators.abort(rollout, a) });
  setHandler(promoteNowUpdate, (a) => rollout.promoteNow(a), {
    validator: (a) => validators.promoteNow(rollout, a),
  });
}
