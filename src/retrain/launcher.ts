import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { createRetrainJob, type RetrainRequest } from './job-request.js';
import { retrainWorkflowId } from './types.js';
import type { retrainWorkflow } from '../../workflows/retrain.js';

/**
 * Creates the job and starts its workflow (`arena retrain`, tests). Starting twice for one job id finds
 * the running workflow instead of a second one.
 */
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
