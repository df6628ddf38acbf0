import { activityInfo, cancellationSignal, heartbeat, sleep } from '@temporalio/activity';
import type { AnalysisVerdict } from '../src/rollout/types.js';
import type { AnalyzeInput, WatchWindow } from '../src/analysis/analyze-input.js';

export type { WatchWindow } from '../src/analysis/analyze-input.js';

export interface WatchInput extends Omit<AnalyzeInput, 'seq' | 'windows'> {
  windows: WatchWindow[];
  /** Seq of the first analysis; the workflow reserves `firstSeq … firstSeq + maxAnalyses - 1`. */
  firstSeq: number;
  maxAnalyses: number;
  intervalMs: number;
  /** Epoch ms: the analysis that runs at or after it is the stage's last one and is handed back. */
  deadline: number;
  /** The decision the workflow last saw: a different one is handed back so its status follows. */
  lastDecision: AnalysisVerdict['decision'] | null;
  /** Analyses in a row, up to the last one the workflow saw, in which a metric source failed. */
  sourceErrorStreak?: number;
}

export interface WatchResult {
  verdict: AnalysisVerdict;
  /** Why the watch ended, for the workflow's reading and for tests. */
  reason: 'act' | 'deadline' | 'changed' | 'batch';
  /**
   * Analyses in a row, up to this verdict, in which a metric source failed (AnalysisVerdict.sourceErrors):
   * the watch hands back as soon as it reaches `policy.analysis.consecutiveErrorLimit`.
   */
  sourceErrorStreak: number;
}

interface WatchProgress {
  lastSeq: number;
  /**
   * The latest verdict in brief: the Temporal Web UI shows a pending activity's last heartbeat, so the
   * rollout's current estimate is visible there between hand-backs.
   */
  latest?: Pick<AnalysisVerdict, 'seq' | 'at' | 'decision' | 'summary' | 'samples' | 'primary'>;
  /** As WatchResult's, up to lastSeq: a retried attempt goes on counting from it. */
  sourceErrorStreak?: number;
}

/** Heartbeats at most this far apart while sleeping, so a long interval never trips the heartbeat timeout. */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * Runs a rollout's per-interval analysis in a loop for the workflow, handing a verdict back only when
 * the workflow has something to do (a failure or sample-ratio mismatch, the stage's end, a new decision)
 * or after `maxAnalyses`. The workflow-driven loop cost every interval of every rollout a timer, a
 * workflow task and a marker on the Temporal server; with a thousand rollouts at a 5 s interval that
 * saturated a 2-core machine and analyses ran seconds late (docs/operations.md). This is Temporal's
 * "frequent polling" pattern (a loop inside a heartbeating activity): the server sees a heartbeat now
 * and then instead. A retry after a crash resumes from the last heartbeated seq; each analysis is
 * idempotent per (rollout, seq), so one run twice returns what was stored the first time.
 */
export function createStageWatch(deps: {
  analyze: (input: AnalyzeInput) => Promise<AnalysisVerdict>;
  now: () => number;
}) {
  return async function watchStage(input: WatchInput): Promise<WatchResult> {
    const { windows, firstSeq, maxAnalyses, intervalMs, deadline, lastDecision, sourceErrorStreak, ...base } =
      input;
    const errorLimit: number | undefined = base.policy.analysis.consecutiveErrorLimit;
    const progress = activityInfo().heartbeatDetails as WatchProgress | undefined;
    const lastSeq = firstSeq + maxAnalyses - 1;
    // An attempt that died after its block's last analysis resumes on that one (stored, so it comes back
    // as it was) rather than past the block, whose next seqs belong to the workflow's next watch.
    let seq = progress?.lastSeq !== undefined ? Math.min(progress.lastSeq + 1, lastSeq) : firstSeq;
    let latest = progress?.latest;
    let streak = progress?.sourceErrorStreak ?? sourceErrorStreak ?? 0;
    // Resuming on the heartbeated seq itself: its errors are in the heartbeated streak already.
    let counted = progress?.lastSeq === seq;
    let next = deps.now() + Math.max(1, Math.min(intervalMs, deadline - deps.now()));
    for (;;) {
      // Sleep in short slices with heartbeats: cancellation (pause, abort, promote-now) arrives with a
      // heartbeat's response, and a dead worker is noticed by the heartbeat timeout.
      for (let wait = next - deps.now(); wait > 0; wait = next - deps.now()) {
        heartbeat({
          lastSeq: seq - 1,
          ...(latest ? { latest } : {}),
          sourceErrorStreak: streak,
        } satisfies WatchProgress);
        await sleep(Math.min(wait, HEARTBEAT_EVERY_MS));
      }
      cancellationSignal().throwIfAborted();
      const at = new Date(deps.now()).toISOString();
      const verdict = await deps.analyze({
        ...base,
        seq,
        windows: windows.map((w) => ({ ...w, to: w.to ?? at })),
      });
      const { decision, summary, samples, primary } = verdict;
      latest = { seq, at: verdict.at, decision, summary, samples, ...(primary ? { primary } : {}) };
      if (!counted) streak = verdict.sourceErrors?.length ? streak + 1 : 0;
      counted = false;
      heartbeat({ lastSeq: seq, latest, sourceErrorStreak: streak } satisfies WatchProgress);
      const handBack = (reason: WatchResult['reason']): WatchResult => ({
        verdict,
        reason,
        sourceErrorStreak: streak,
      });
      if (verdict.decision === 'fail' || verdict.decision === 'invalid') return handBack('act');
      // Older policies (started before the limit existed) have none: they keep waiting, as they did.
      if (errorLimit !== undefined && streak >= errorLimit) return handBack('act');
      if (deps.now() >= deadline) return handBack('deadline');
      if (verdict.decision !== lastDecision) return handBack('changed');
      if (seq >= lastSeq) return handBack('batch');
      seq++;
      next = Math.min(next + intervalMs, deadline);
      // A slow analysis (or a paused process) does not make the loop fire a burst to catch up.
      if (next < deps.now()) next = deps.now() + Math.max(1, Math.min(intervalMs, deadline - deps.now()));
    }
  };
}
