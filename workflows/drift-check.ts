import { defineSearchAttributeKey } from '@temporalio/common';
import {
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { startRetrainChild } from './start-retrain.js';
import { raiseAndNotify } from './alerting.js';
import type { DriftCheckResult } from '../activities/monitoring.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

export interface DriftCheckOutcome extends DriftCheckResult {
  retrain: { jobId: string | null; note: string } | null;
  performance: Awaited<ReturnType<Activities['runPerformanceCheck']>>;
}

/**
 * One drift check (hourly by schedule, or `arena drift check`): compare, record, and when a feature drifted
 * raise a critical alert and start a retraining job whose candidate will wait for a person's approval.
 */
export async function driftCheckWorkflow(args: {
  tenantId: string;
  model: string;
}): Promise<DriftCheckOutcome> {
  upsertSearchAttributes([{ key: defineSearchAttributeKey('ArenaModel', 'KEYWORD'), value: args.model }]);
  const checkId = workflowInfo().runId;
  const checked = await acts.runDriftCheck({ ...args, checkId });
  // Accuracy from feedback is checked on the same hourly beat: it needs only rollups.
  const performance = await acts.runPerformanceCheck(args);
  const result = { ...checked, performance };
  setCurrentDetails(`**Drift check of ${args.model}**: ${result.summary}\n\n${performance.reason}`);
  if (!result.drifted && performance.degraded) {
    await raiseAndNotify({
      tenantId: args.tenantId,
      type: 'performance_degradation',
      severity: 'warning',
      model: args.model,
      rolloutId: null,
      title: `${args.model}: ${performance.reason}`,
      details: { checkId, performance },
      dedupeKey: `performance:${checkId}`,
    });
    if (!performance.retrain)
      return { ...result, retrain: { jobId: null, note: 'retraining on degradation is off' } };
    const job = await acts.createDegradationRetrainJob({
      tenantId: args.tenantId,
      model: args.model,
      runId: checkId,
      reason: performance.reason,
      evidence: performance,
    });
    if (job.input) await startRetrainChild(job.input);
    return { ...result, retrain: { jobId: job.input?.jobId ?? null, note: job.note } };
  }
  if (!result.drifted) return { ...result, retrain: null };
  await raiseAndNotify({
    tenantId: args.tenantId,
    type: 'drift_detected',
    severity: 'critical',
    model: args.model,
    rolloutId: null,
    title: `${args.model}: ${result.summary}`,
    details: { checkId, features: result.features, window: result.window },
    dedupeKey: `drift:${checkId}`,
  });
  if (!result.policy.retrain)
    return { ...result, retrain: { jobId: null, note: 'retraining on drift is off' } };
  const job = await acts.createDriftRetrainJob({
    tenantId: args.tenantId,
    model: args.model,
    checkId,
    reason: result.summary,
    evidence: { checkId, features: result.features.filter((f) => f.drifted) },
  });
  if (job.input) await startRetrainChild(job.input);
  setCurrentDetails(`**Drift check of ${args.model}**: ${result.summary}\n\n${job.note}`);
  return { ...result, retrain: { jobId: job.input?.jobId ?? null, note: job.note } };
}
