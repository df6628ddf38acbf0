import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { retrainWorkflowId, type RetrainInput } from '../src/retrain/types.js';

/**
 * Starts a retraining job's workflow as a child that outlives its parent (a drift check, a backtest, the
 * champion monitor or a schedule's run ends long before training does).
 */
export async function startRetrainChild(input: RetrainInput): Promise<void> {
  await startChild('retrainWorkflow', {
    workflowId: retrainWorkflowId(input.tenantId, input.model, input.jobId),
    args: [input],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
}
