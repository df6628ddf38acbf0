import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ActorInput, ApproveInput, RolloutStatus } from './types.js';

/**
 * The rollout workflow's messages: the people-in-the-loop actions (Updates, each checked by a validator
 * before it is accepted) and the status query. One definition for the workflow and its callers, so a
 * renamed message or a changed argument fails to compile instead of failing at run time. No runtime code
 * beyond the definitions: workflows and the client both import it.
 */

export const approveUpdate = defineUpdate<RolloutStatus, [ApproveInput]>('approve');
export const rejectUpdate = defineUpdate<RolloutStatus, [ActorInput]>('reject');
export const pauseUpdate = defineUpdate<RolloutStatus, [ActorInput]>('pause');
export const resumeUpdate = defineUpdate<RolloutStatus, [ActorInput]>('resume');
export const abortUpdate = defineUpdate<RolloutStatus, [ActorInput]>('abort');
export const promoteNowUpdate = defineUpdate<RolloutStatus, [ActorInput]>('promoteNow');
export const statusQuery = defineQuery<RolloutStatus>('status');
