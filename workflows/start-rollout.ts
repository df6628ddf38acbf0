import { defineSearchAttributeKey, TypedSearchAttributes } from '@temporalio/common';
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { PreparedRollout } from '../src/rollout/prepare.js';
import type { rolloutWorkflow } from './rollout/workflow.js';

/**
 * Starts a prepared rollout (see prepareRollout) as a child that outlives its parent: a retrain or an
 * experiment hands the candidate over to the ordinary rollout lifecycle, with the search attributes the
 * Web UI filters on.
 */
export function startRolloutChild(prepared: PreparedRollout, summary = prepared.summary) {
  return startChild<typeof rolloutWorkflow>('rolloutWorkflow', {
    workflowId: prepared.workflowId,
    args: [prepared.args],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: new TypedSearchAttributes(
      Object.entries(prepared.searchAttributes).map(([name, value]) => ({
        key: defineSearchAttributeKey(name, 'KEYWORD'),
        value,
      })),
    ),
    staticSummary: summary,
  });
}
