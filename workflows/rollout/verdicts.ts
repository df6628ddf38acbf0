import {
  ActivityCancellationType,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import type { WatchWindow } from '../../activities/stage-watch.js';
import type { AnalysisVerdict } from '../../src/rollout/types.js';
import { acts, localActs, RETRY_UNTIL_BACK } from './activities.js';
import type { Rollout } from './state.js';

/**
 * Histories from before 'stage-watcher' ran one timer and one local analysis per interval; since then a
 * watching activity loops through the intervals and hands a verdict back only when the workflow has
 * something to do (activities/stage-watch.ts), or at least this often so the workflow's own status and
 * the Web UI's details stay current. Between hand-backs the freshest analysis is in the analyses table
 * (ArenaClient.status merges it) and in the pending activity's heartbeat.
 */
const WATCH_HANDBACK_MS = 60_000;
/**
 * A dead worker's watch is retried after this long; heartbeats are sent at most every 0.8 × this, so it is
 * also how long a cancelled watch can take to learn it was cancelled (it only analyses meanwhile).
 */
const WATCH_HEARTBEAT_TIMEOUT_MS = 20_000;

/** A window of epoch times; `to: null` ends at each analysis (a running stage, the watch). */
export interface TimeWindow {
  index: number;
  from: number;
  to: number | null;
}

/** What a stage (or the watch) waits for its next verdict on. */
export interface VerdictRequest {
  mode: 'shadow' | 'canary' | 'watch';
  windows: TimeWindow[];
  /** When the stage (or the watch) ends. */
  deadline: number;
  /** What ends the waiting for good (abort, promote-now); pause only suspends it. */
  interrupted: () => boolean;
}

/**
 * The next verdict of a running stage or of the watch, or why there is none: `interrupted` (the caller acts
 * on it), or `resumed` after a pause (the caller starts the interval over, its deadline moved by the pause).
 * Since 'stage-watcher' the stage watch analyses every interval; histories recorded before it replay
 * through one timer and one analysis per interval. Both paths issue exactly the commands they always did.
 */
export async function nextVerdict(
  rollout: Rollout,
  req: VerdictRequest,
): Promise<AnalysisVerdict | 'interrupted' | 'resumed'> {
  const m = rollout.memory;
  const halted = (): boolean => req.interrupted() || m.paused;
  const untilResumed = async (): Promise<'resumed'> => {
    await condition(() => !m.paused || req.interrupted());
    return 'resumed';
  };
  if (patched('stage-watcher')) {
    const watched = halted() ? null : await watchStage(rollout, req, halted);
    if (req.interrupted()) return 'interrupted';
    if (m.paused || !watched) return untilResumed();
    return watched;
  }
  await condition(halted, Math.max(1, Math.min(rollout.policy.analysis.interval, req.deadline - Date.now())));
  if (req.interrupted()) return 'interrupted';
  if (m.paused) return untilResumed();
  return analyze(
    rollout,
    req.mode,
    req.windows.map((w) => ({ ...w, to: w.to ?? Date.now() })),
  );
}

const iso = (t: number): string => new Date(t).toISOString();
/** A window as the analysis reads it. */
const toWindow = (rollout: Rollout, w: TimeWindow): WatchWindow => ({
  index: w.index,
  from: iso(w.from),
  to: w.to === null ? null : iso(w.to),
  mode: rollout.policy.stages[w.index]?.mode ?? 'canary',
});

/** One analysis now, under the next seq. */
export async function analyze(
  rollout: Rollout,
  mode: AnalysisVerdict['mode'],
  windows: Array<{ index: number; from: number; to: number }>,
): Promise<AnalysisVerdict> {
  const { input, memory: m } = rollout;
  // Histories recorded before the switch replay through the ordinary activity.
  const analyzeRollout = patched('analysis-as-local-activity')
    ? localActs.analyzeRollout
    : acts.analyzeRollout;
  const verdict = await analyzeRollout({
    tenantId: input.tenantId,
    rolloutId: input.rolloutId,
    seq: ++m.analysisSeq,
    stageIndex: m.stageIndex,
    mode,
    model: input.model,
    champion: mode === 'watch' ? m.previousChampion : input.champion,
    challenger: input.challenger,
    windows: windows.map((w) => ({ ...toWindow(rollout, w), to: iso(w.to) })),
    policy: input.policy,
  });
  return rollout.analysed(verdict);
}

/**
 * Analyses every interval until the watch hands a verdict back (see WATCH_HANDBACK_MS), or returns null
 * as soon as `stop()` holds (pause, abort, promote-now): the watch is then cancelled without waiting for
 * it, and the seqs reserved for it are skipped, so a late analysis of the cancelled watch can never
 * collide with a later one.
 */
async function watchStage(
  rollout: Rollout,
  req: VerdictRequest,
  stop: () => boolean,
): Promise<AnalysisVerdict | null> {
  const { input, memory: m } = rollout;
  const { mode, windows, deadline } = req;
  const interval = input.policy.analysis.interval;
  const maxAnalyses = Math.max(1, Math.floor(WATCH_HANDBACK_MS / interval));
  const firstSeq = m.analysisSeq + 1;
  const { watchStage } = proxyActivities<Pick<Activities, 'watchStage'>>({
    startToCloseTimeout: maxAnalyses * interval + 5 * 60_000,
    heartbeatTimeout: WATCH_HEARTBEAT_TIMEOUT_MS,
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: RETRY_UNTIL_BACK,
  });
  const watching = new CancellationScope();
  const stopping = new CancellationScope();
  const result = watching.run(() =>
    watchStage({
      tenantId: input.tenantId,
      rolloutId: input.rolloutId,
      stageIndex: m.stageIndex,
      mode,
      model: input.model,
      champion: mode === 'watch' ? m.previousChampion : input.champion,
      challenger: input.challenger,
      windows: windows.map((w) => toWindow(rollout, w)),
      policy: input.policy,
      firstSeq,
      maxAnalyses,
      intervalMs: interval,
      deadline,
      lastDecision: m.lastAnalysis?.decision ?? null,
      sourceErrorStreak: m.sourceErrorStreak ?? 0,
    }),
  );
  const stopped = stopping.run(() => condition(stop));
  try {
    const first = await Promise.race([result, stopped.then(() => null)]);
    if (first === null) {
      watching.cancel();
      await result.catch((err: unknown) => {
        if (!isCancellation(err)) throw err;
      });
      m.analysisSeq = firstSeq + maxAnalyses - 1;
      return null;
    }
    m.analysisSeq = first.verdict.seq;
    // Results recorded before the watch counted source errors have no streak: counted from the verdict.
    return rollout.analysed(first.verdict, first.sourceErrorStreak as number | undefined);
  } finally {
    stopping.cancel();
    stopped.catch(() => undefined);
  }
}
