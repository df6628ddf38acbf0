import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AbortInput, ActorInput, ApproveInput, RolloutStatus } from './types.js';

/**
 * The rollout workflow's messages: the people-in-the-loop actions, each both an Update (checked by a
 * validator before it is accepted, so the caller learns the answer) and a Signal of the same name and
 * payload (checked by the same validator; a refusal cannot be answered, so it is recorded in the
 * rollout's trail and the audit log and raised as an alert), and the status query. One definition for the workflow and its callers, so a
 * renamed message or a changed argument fails to compile instead of failing at run time. No runtime code
 * beyond the definitions: workflows and the client both import it.
 */

export const approveUpdate = defineUpdate<RolloutStatus, [ApproveInput]>('approve');
export const rejectUpdate = defineUpdate<RolloutStatus, [ActorInput]>('reject');
export const pauseUpdate = defineUpdate<RolloutStatus, [ActorInput]>('pause');
export const resumeUpdate = defineUpdate<RolloutStatus, [ActorInput]>('resume');
export const abortUpdate = defineUpdate<RolloutStatus, [AbortInput]>('abort');
export const promoteNowUpdate = defineUpdate<RolloutStatus, [ActorInput]>('promoteNow');
export const statusQuery = defineQuery<RolloutStatus>('status');

// Signals share the Updates' names: `temporal workflow signal --name approve` is what people try first.
export const approveSignal = defineSignal<[ApproveInput]>('approve');
export const rejectSignal = defineSignal<[ActorInput]>('reject');
export const pauseSignal = defineSignal<[ActorInput]>('pause');
export const resumeSignal = defineSignal<[ActorInput]>('resume');
export const abortSignal = defineSignal<[AbortInput]>('abort');
export const promoteNowSignal = defineSignal<[ActorInput]>('promoteNow');
