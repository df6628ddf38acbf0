import { defineSearchAttributeKey } from '@temporalio/common';
import {
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { startRetrainChild } from './start-retrain.js';
import type { ChampionMonitorRun } from '../activities/champion-monitor.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';
import { raiseAndNotify } from './alerting.js';

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

const CHECK_NAMES = {
  accuracy: 'accuracy',
  latency: 'latency',
  error_rate: 'error rate',
  stability: '48 h stability',
} as const;

export interface ChampionMonitorOutcome extends ChampionMonitorRun {
  retrainJob: { jobId: string | null; note: string } | null;
}

/**
 * One run of the champion monitor (every 15 minutes by schedule, or `arena monitor check`): the activity
 * judges and records; this raises an alert for each episode opened or escalated (one per episode and tier,
 * however many runs it lasts), a resolution when one clears, and on a critical accuracy breach starts a
 * degradation retrain whose candidate waits for a person.
 */
export async function championMonitorWorkflow(args: {
  tenantId: string;
  model: string;
}): Promise<ChampionMonitorOutcome> {
  upsertSearchAttributes([{ key: defineSearchAttributeKey('ArenaModel', 'KEYWORD'), value: args.model }]);
  const checkId = workflowInfo().runId;
  const run = await acts.runChampionMonitor({ ...args, checkId });
  setCurrentDetails(`**Champion monitor of ${args.model}**: ${run.summary}`);
  for (const e of run.events) {
    if (e.kind === 'eased') continue; // still open at a lower tier: the page already went out
    const f = e.finding;
    const figures = {
      check: CHECK_NAMES[e.check],
      tier: e.kind === 'resolved' ? 'resolved' : e.tier,
      figure: f.figure === null ? 'none' : Number(f.figure.toPrecision(4)),
      ...(f.baseline === null ? {} : { baseline: Number(f.baseline.toPrecision(4)) }),
      threshold: f.threshold,
      window: `${e.window.from} – ${e.window.to}`,
      values: f.n,
    };
    const resolved = e.kind === 'resolved';
    await raiseAndNotify({
      tenantId: args.tenantId,
      type: resolved ? 'champion_resolved' : `champion_${e.check}`,
      // A resolution goes where the episode's worst page went.
      severity: resolved ? (e.peak === 'ok' ? 'warning' : e.peak) : e.tier === 'ok' ? 'warning' : e.tier,
      model: args.model,
      rolloutId: null,
      title: resolved
        ? `${args.model} ${e.version}: ${CHECK_NAMES[e.check]} resolved (${f.reason})`
        : `${args.model} ${e.version}: ${CHECK_NAMES[e.check]} ${e.tier}: ${f.reason}`,
      details: {
        checkId,
        check: e.check,
        kind: e.kind,
        tier: e.tier,
        version: e.version,
        episode: e.episode,
        figure: f.figure,
        baseline: f.baseline,
        threshold: f.threshold,
        window: e.window,
        closes: e.closes,
        figures,
      },
      dedupeKey: resolved ? `${e.alertKey}:resolved` : e.alertKey,
    });
  }
  if (!run.retrain) return { ...run, retrainJob: null };
  const accuracy = run.events.find((e) => e.check === 'accuracy' && e.kind !== 'resolved');
  const job = await acts.createDegradationRetrainJob({
    tenantId: args.tenantId,
    model: args.model,
    runId: checkId,
    reason: `champion monitor: accuracy critical: ${accuracy?.finding.reason ?? ''}`,
    evidence: { checkId, accuracy: accuracy?.finding ?? null },
    requestedBy: 'arena:champion-monitor',
  });
  if (job.input) await startRetrainChild(job.input);
  setCurrentDetails(`**Champion monitor of ${args.model}**: ${run.summary}\n\n${job.note}`);
  return { ...run, retrainJob: { jobId: job.input?.jobId ?? null, note: job.note } };
}
