import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import type { RolloutInput, RolloutStatus } from '../../src/rollout/types.js';
import { acts } from './activities.js';
import { registerHandlers } from './handlers.js';
import { approval, decision, promotion, stages, watch } from './phases.js';
import { Rollout, type RolloutMemory } from './state.js';

/**
 * One durable workflow per rollout (DESIGN.md §6): approval → stages (shadow, canaries) analyzed every
 * interval → decision → promotion → watch, or rollback at any point. Only the state machine and timers
 * live here; every side effect is an activity with an idempotency key derived from the rollout.
 *
 * A run continued as new gets the memory of the last one and resumes in its phase; a rollout that ends
 * early (rejected, expired, rolled back, aborted) skips the phases left.
 */
export async function rolloutWorkflow(input: RolloutInput, carried?: RolloutMemory): Promise<RolloutStatus> {
  const rollout = new Rollout(input, carried);
  registerHandlers(rollout);
  if (!carried) {
    await acts.recordRolloutStart({
      input,
      workflowId: workflowInfo().workflowId,
      runId: workflowInfo().runId,
    });
    rollout.showProgress();
  }
  await approval(rollout);
  await stages(rollout);
  await decision(rollout);
  await promotion(rollout);
  await watch(rollout);
  // A refused signal still being recorded (its event, its alert) finishes before the workflow does.
  await condition(allHandlersFinished);
  return rollout.status();
}
