import { defineSearchAttributeKey } from '@temporalio/common';
import {
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { startRetrainChild } from './start-retrain.js';
import type { BacktestOutcome } from '../activities/backtest.js';
import { raiseAndNotify } from './alerting.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '15 minutes',
  retry: {
    maximumAttempts: 3,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

export interface BacktestArgs {
  tenantId: string;
  model: string;
  version?: string;
  asOf?: string;
  /** Default: the model's configured look-back (90 days); the daily T-1 schedule passes one window. */
  lookbackDays?: number;
}

/**
 * A walk-forward backtest (daily T-1 by schedule, 90 days on demand). When the latest window is worse than
 * the version promised by more than the configured margin, it raises backtest_degradation and starts a
 * retraining job (trigger degradation) whose candidate waits for a person's approval.
 */
export async function backtestWorkflow(
  args: BacktestArgs,
): Promise<BacktestOutcome & { retrainJob: string | null }> {
  upsertSearchAttributes([{ key: defineSearchAttributeKey('ArenaModel', 'KEYWORD'), value: args.model }]);
  const out = await acts.runBacktest(args);
  setCurrentDetails(
    `**Backtest of ${args.model} ${out.version}** as of ${out.asOf}: ${out.trend}; ${out.reason}`,
  );
  if (!out.degraded || args.version) return { ...out, retrainJob: null };
  await raiseAndNotify({
    tenantId: args.tenantId,
    type: 'backtest_degradation',
    severity: 'warning',
    model: args.model,
    rolloutId: null,
    title: `${args.model} ${out.version} degraded: ${out.reason}`,
    details: {
      asOf: out.asOf,
      windows: out.windows.slice(-4),
      baseline: out.baseline,
      workflowId: workflowInfo().workflowId,
    },
    dedupeKey: `backtest:${args.model}:${out.version}:${out.asOf}`,
  });
  if (!out.retrain) return { ...out, retrainJob: null };
  const job = await acts.createDegradationRetrainJob({
    tenantId: args.tenantId,
    model: args.model,
    runId: workflowInfo().runId,
    reason: out.reason,
    evidence: { asOf: out.asOf, latest: out.windows.at(-1), baseline: out.baseline },
  });
  if (job.input) await startRetrainChild(job.input);
  return { ...out, retrainJob: job.input?.jobId ?? null };
}
