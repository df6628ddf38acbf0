import type { AnalysisVerdict } from '../../src/rollout/types.js';
import type { Rollout, RolloutAlert } from './state.js';

/**
 * The pauses Arena takes on its own (a sample-ratio mismatch, a metric source that keeps failing): the
 * rollout stops moving, an alert says why, and a person resumes or aborts (handlers.ts).
 */

/**
 * Whether metric sources failed in `consecutiveErrorLimit` analyses in a row. No patch guards the pause it
 * leads to: verdicts recorded before sources' errors were counted carry none, so their histories replay
 * without it. Policies from before the limit existed have none and keep waiting, as they did.
 */
export function sourcesFailing(rollout: Rollout): boolean {
  const limit: number | undefined = rollout.policy.analysis.consecutiveErrorLimit;
  return limit !== undefined && (rollout.memory.sourceErrorStreak ?? 0) >= limit;
}

/** Missing data never passes; a source that keeps failing stops the rollout for a person instead. */
export async function pauseForSources(rollout: Rollout, verdict: AnalysisVerdict): Promise<void> {
  const { input, memory: m } = rollout;
  const streak = m.sourceErrorStreak ?? 0;
  const first = verdict.sourceErrors?.[0] ?? 'a metric source failed';
  await pauseForPerson(
    rollout,
    {
      type: 'metric_source_failing',
      severity: 'critical',
      title: `${input.model} ${input.challenger}: no data from a metric source in ${streak} analyses in a row; rollout paused`,
      details: { errors: verdict.sourceErrors ?? [], analyses: streak, analysis: verdict },
      dedupeKey: `${input.rolloutId}:metric_source:${m.analysisSeq}`,
    },
    `metric source failing in ${streak} analyses in a row (consecutiveErrorLimit ${rollout.policy.analysis.consecutiveErrorLimit}): ${first}. Resume once it answers again, or abort.`,
  );
}

/** Pauses the rollout with an alert; paused time does not count towards the stage (Rollout.resume). */
export async function pauseForPerson(rollout: Rollout, alert: RolloutAlert, reason: string): Promise<void> {
  const m = rollout.memory;
  m.paused = true;
  m.pausedAt = Date.now();
  await rollout.alert(alert);
  await rollout.record({ type: 'paused', actor: 'arena', reason });
}
