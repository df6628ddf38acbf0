import { defaultPayloadConverter, RawValue, rawValueTypeInfo, type TypeInfo } from '@temporalio/common';
import { decode } from '@temporalio/common/lib/encoding.js';
import {
  ApplicationFailure,
  defineSignal,
  patched,
  setHandler,
  type SignalDefinition,
} from '@temporalio/workflow';
import {
  abortSignal,
  abortUpdate,
  approveSignal,
  approveUpdate,
  pauseSignal,
  pauseUpdate,
  promoteNowSignal,
  promoteNowUpdate,
  rejectSignal,
  rejectUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
} from '../../src/rollout/messages.js';
import { examplePayload, parseActionInput, type RolloutAction } from '../../src/rollout/action-input.js';
import type { ActorInput, ApproveInput, RolloutState } from '../../src/rollout/types.js';
import type { Rollout } from './state.js';

/**
 * People in the loop. Every action is an Update whose validator refuses it, with the reason, before
 * anything is recorded, and a Signal of the same name checked by the same validator: a signal cannot be
 * answered, so its refusal is recorded in the rollout's trail and the audit log and raised as an alert.
 */

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
/** The payload's shape (fields, types, storable text), the same for Updates and Signals. */
const requireWellFormed = (action: RolloutAction, payload: unknown): void => {
  const parsed = parseActionInput(action, payload);
  if (!parsed.ok) refuse(parsed.problem);
};
const requireAccepted = (action: RolloutAction, r: Rollout): void => {
  const rule = ACCEPTED[action];
  if (!rule.when(r)) refuse(rule.otherwise(r));
};

/** Each throws a non-retryable `RolloutActionRefused` failure when the action is not accepted now. */
export const validators = {
  approve(r: Rollout, a: ApproveInput): void {
    requireWellFormed('approve', a);
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
    requireWellFormed('reject', a);
    requireAccepted('reject', r);
  },
  pause(r: Rollout, a: ActorInput): void {
    requireWellFormed('pause', a);
    if (r.memory.paused) refuse('already paused');
    requireAccepted('pause', r);
  },
  resume(r: Rollout, a: ActorInput): void {
    requireWellFormed('resume', a);
    requireAccepted('resume', r);
  },
  abort(r: Rollout, a: ActorInput): void {
    requireWellFormed('abort', a);
    if (!a.reason || a.reason.trim() === '') refuse('a reason is required to abort');
    requireAccepted('abort', r);
  },
  promoteNow(r: Rollout, a: ActorInput): void {
    requireWellFormed('promoteNow', a);
    requireAccepted('promoteNow', r);
  },
} satisfies Record<RolloutAction, (r: Rollout, a: ApproveInput & ActorInput) => void>;

const TAKES = (action: RolloutAction): string =>
  action === 'approve'
    ? 'Takes {by, comment?}'
    : action === 'abort'
      ? 'Takes {by, reason} (a reason is required)'
      : 'Takes {by, reason?}';

/** What each action does; shown by the Web UI and `temporal workflow metadata` beside the handler. */
const DOES: Record<RolloutAction, string> = {
  approve:
    "Approves the rollout while it awaits approval, or its promotion when the policy asks for one. Refused when nothing awaits approval, when `by` is not among the policy's approvers, has already approved, or proposed the rollout (separation of duties).",
  reject: 'Rejects the rollout (or its promotion) while it awaits approval; the rollout ends `rejected`.',
  pause:
    'Pauses a rollout in shadow, canary, deciding or watching: analyses go on, nothing moves, and paused time does not count towards the stage.',
  resume: 'Resumes a paused rollout.',
  abort:
    'Aborts: before promotion the challenger is rejected and routing returns to the champion; during the watch the previous champion is restored (the same as `arena rollback`).',
  promoteNow:
    'Skips the remaining stages and promotes now (shadow, canary or deciding), still subject to promotion approval when the policy asks for it.',
};

const describe = (action: RolloutAction, as: 'update' | 'signal'): string =>
  `${DOES[action]} ${TAKES(action)}; example: ${examplePayload(action)}. ` +
  (as === 'update'
    ? "As an Update it answers with the rollout's status, or with the reason it was refused."
    : "As a Signal it follows the same rules as the Update of the same name; a refusal cannot be answered, so it is recorded in the rollout's events and the audit log and raised as an alert (`arena rollout status`, `arena alerts list`).");

const STATUS_DESCRIPTION =
  "The rollout as it stands: state, stage and its end, the latest analysis with each metric's estimate, interval and reason, approvals, and the last 100 events (including refused signals). Takes no input.";

/**
 * Rollouts whose history began before these handlers existed had their signals dropped; they replay that
 * way. Asked inside the handler, so a rollout already running when the worker is upgraded handles the
 * signals it receives from then on.
 */
const SIGNALS_PATCH = 'action-signals';

/**
 * Every argument of a signal arrives as a raw payload, however many were sent. The SDK decodes a signal's
 * arguments before any handler runs, and a payload it cannot decode (an encoding such as json/protobuf,
 * one click away in the Web UI's form) throws there: the workflow task fails on every attempt and the
 * rollout is stuck. Decoded in the handler instead, such a payload is refused and recorded like any other.
 */
const EVERY_ARG_RAW: readonly TypeInfo[] = new Proxy([], {
  get: (target, key) =>
    typeof key === 'string' && /^\d+$/.test(key) ? rawValueTypeInfo : Reflect.get(target, key),
});

/** The workflow's side of a signal defined in messages.ts: same name, arguments left raw. */
const raw = (def: SignalDefinition<[ApproveInput]> | SignalDefinition<[ActorInput]>) =>
  defineSignal<RawValue[]>(def.name, { typeInfo: { inputTypes: EVERY_ARG_RAW } });

type Decoded = { ok: true; value: unknown } | { ok: false; problem: string; shown: string };

function decodeArgs(args: unknown[]): Decoded {
  const values: unknown[] = [];
  for (const arg of args) {
    const payload = arg instanceof RawValue ? arg.payload : undefined;
    if (!payload) return { ok: true, value: args.length === 1 ? arg : args };
    try {
      values.push(defaultPayloadConverter.fromPayload(payload));
    } catch (err) {
      const bytes = payload.metadata?.encoding;
      const encoding = bytes ? decode(bytes) : 'none';
      return {
        ok: false,
        problem: `the payload cannot be decoded (encoding ${JSON.stringify(encoding).slice(0, 80)}: ${(err as Error).message.slice(0, 200)}); send JSON (encoding json/plain) such as {"by":"carol"}`,
        shown: `<${payload.data?.length ?? 0} bytes, encoding ${JSON.stringify(encoding).slice(0, 80)}>`,
      };
    }
  }
  return { ok: true, value: values.length === 1 ? values[0] : values.length === 0 ? undefined : values };
}

function signalHandler<A extends RolloutAction>(
  rollout: Rollout,
  action: A,
  act: (a: ApproveInput & ActorInput) => Promise<unknown>,
): (...args: RawValue[]) => Promise<void> {
  return async (...args: RawValue[]) => {
    if (!patched(SIGNALS_PATCH)) return;
    const decoded = decodeArgs(args);
    if (!decoded.ok) return rollout.refusedSignal(action, decoded.shown, decoded.problem);
    const payload = decoded.value;
    try {
      validators[action](rollout, payload as ApproveInput & ActorInput);
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || err.type !== 'RolloutActionRefused') throw err;
      await rollout.refusedSignal(action, payload, err.message);
      return;
    }
    await act(payload as ApproveInput & ActorInput);
  };
}

export function registerHandlers(rollout: Rollout): void {
  setHandler(statusQuery, () => rollout.status(), { description: STATUS_DESCRIPTION });
  const update = (action: RolloutAction) => ({
    validator: (a: ApproveInput & ActorInput) => validators[action](rollout, a),
    description: describe(action, 'update'),
  });
  const signal = (action: RolloutAction) => ({ description: describe(action, 'signal') });

  setHandler(approveUpdate, (a) => rollout.approve(a), update('approve'));
  setHandler(
    raw(approveSignal),
    signalHandler(rollout, 'approve', (a) => rollout.approve(a)),
    signal('approve'),
  );
  setHandler(rejectUpdate, (a) => rollout.reject(a), update('reject'));
  setHandler(
    raw(rejectSignal),
    signalHandler(rollout, 'reject', (a) => rollout.reject(a)),
    signal('reject'),
  );
  setHandler(pauseUpdate, (a) => rollout.pause(a), update('pause'));
  setHandler(
    raw(pauseSignal),
    signalHandler(rollout, 'pause', (a) => rollout.pause(a)),
    signal('pause'),
  );
  setHandler(resumeUpdate, (a) => rollout.resume(a), update('resume'));
  setHandler(
    raw(resumeSignal),
    signalHandler(rollout, 'resume', (a) => rollout.resume(a)),
    signal('resume'),
  );
  setHandler(abortUpdate, (a) => rollout.abort(a), update('abort'));
  setHandler(
    raw(abortSignal),
    signalHandler(rollout, 'abort', (a) => rollout.abort(a)),
    signal('abort'),
  );
  setHandler(promoteNowUpdate, (a) => rollout.promoteNow(a), update('promoteNow'));
  setHandler(
    raw(promoteNowSignal),
    signalHandler(rollout, 'promoteNow', (a) => rollout.promoteNow(a)),
    signal('promoteNow'),
  );
}
