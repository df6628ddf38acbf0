import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { StackCheckInput, StackCheckRecord } from '../activities/stack-check.js';

const { recordStackCheck } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** The smallest workflow that touches every part of the stack: used by `arena dev check` and the e2e test. */
export async function stackCheckWorkflow(
  input: StackCheckInput,
): Promise<StackCheckRecord & { runId: string }> {
  const record = await recordStackCheck(input);
  return { ...record, runId: workflowInfo().runId };
}
