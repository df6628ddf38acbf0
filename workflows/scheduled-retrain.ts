import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { startRetrainChild } from './start-retrain.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/**
 * What the weekly retrain schedule starts: a job row with trigger `schedule` (or a note that one is already
 * running), then the retraining workflow, whose candidate may roll out already approved.
 */
export async function scheduledRetrainWorkflow(args: { tenantId: string; model: string }): Promise<string> {
  const job = await acts.createScheduledRetrainJob({ ...args, runId: workflowInfo().runId });
  if (!job.input) return job.note;
  await startRetrainChild(job.input);
  return job.note;
}
