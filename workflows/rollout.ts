import { defineSearchAttributeKey } from '@temporalio/common';
import {
  ActivityCancellationType,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { WatchWindow } from '../activities/stage-watch.js';
import { raiseAndNotify } from './alerting.js';
import type {
  ActorInput,
  AnalysisVerdict,
  Approval,
  ApproveInput,
  RolloutEvent,
  RolloutInput,
  RolloutState,
  RolloutStatus,
} from '../src/rollout/types.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';
import { basisPoints, percentOf } from '../src/routing/weight.js';

/**
 * One durable workflow per rollout (DESIGN.md §6): approval → stages (shadow, canaries) analyzed every
 * interval → decision → promotion → watch, or rollback at any point. Only the state machine and timers
 * live here; every side effect is an activity with an idempotency key derived from the rollout.
 */

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  // No attempt limit: when Postgres is down the rollout waits and continues once it is back.
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

/**
 * The analysis runs every interval of every rollout: as a local activity it costs the server one marker
 * event instead of an activity's three events and a second workflow task, which is what lets one dev
 * server keep a thousand rollouts on schedule (bench: rollouts). It reads rollups only and is idempotent
 * per (rollout, seq), so re-running it after a worker crash is safe.
 */
const localActs = proxyLocalActivities<Pick<Activities, 'analyzeRollout'>>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

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

export const approveUpdate = defineUpdate<RolloutStatus, [ApproveInput]>('approve');
export const rejectUpdate = defineUpdate<RolloutStatus, [ActorInput]>('reject');
export const pauseUpdate = defineUpdate<RolloutStatus, [ActorInput]>('pause');
export const resumeUpdate = defineUpdate<RolloutStatus, [ActorInput]>('resume');
export const abortUpdate = defineUpdate<RolloutStatus, [ActorInput]>('abort');
export const promoteNowUpdate = defineUpdate<RolloutStatus, [ActorInput]>('promoteNow');
export const statusQuery = defineQuery<RolloutStatus>('status');

const SA_MODEL = defineSearchAttributeKey('ArenaModel', 'KEYWORD');
const SA_VERSION = defineSearchAttributeKey('ArenaVersion', 'KEYWORD');
const SA_STATE = defineSearchAttributeKey('ArenaState', 'KEYWORD');
const SA_STAGE = defineSearchAttributeKey('ArenaStage', 'KEYWORD');

/** Everything the workflow must carry across continue-as-new. */
export interface RolloutMemory {
  state: RolloutState;
  seq: number;
  analysisSeq: number;
  stageIndex: number;
  stageStartedAt: number | null;
  /** Extra time granted to the current stage (inconclusive at its end) or to the decision. */
  extensionMs: number;
  stageWindows: Array<{ index: number; from: number; to: number }>;
  approvals: Approval[];
  promotionApprovals: Approval[];
  paused: boolean;
  pausedAt: number | null;
  abort: ActorInput | null;
  rejected: ActorInput | null;
  promoteNow: ActorInput | null;
  lastAnalysis: AnalysisVerdict | null;
  decision: string | null;
  events: RolloutEvent[];
  phase: 'approval' | 'stages' | 'deciding' | 'promotion' | 'watching' | 'done';
  watchStartedAt: number | null;
  previousChampion: string;
}

const RECENT_EVENTS = 100;
/** Continue-as-new well before Temporal's limits; a 7-day canary at a 1-minute interval is ~30k events. */
const HISTORY_LIMIT = 4_000;

export async function rolloutWorkflow(input: RolloutInput, carried?: RolloutMemory): Promise<RolloutStatus> {
  const { policy, rolloutId } = input;
  const m: RolloutMemory = carried ?? {
    state: 'proposed',
    seq: 0,
    analysisSeq: 0,
    stageIndex: 0,
    stageStartedAt: null,
    extensionMs: 0,
    stageWindows: [],
    approvals: [],
    promotionApprovals: [],
    paused: false,
    pausedAt: null,
    abort: null,
    rejected: null,
    promoteNow: null,
    lastAnalysis: null,
    decision: null,
    events: [],
    phase: 'approval',
    watchStartedAt: null,
    previousChampion: input.champion,
  };

  const status = (): RolloutStatus => {
    const stage = m.phase === 'stages' ? policy.stages[m.stageIndex] : undefined;
    return {
      rolloutId,
      model: input.model,
      champion: input.champion,
      challenger: input.challenger,
      state: m.state,
      paused: m.paused,
      stage:
        stage && m.stageStartedAt !== null
          ? {
              index: m.stageIndex,
              mode: stage.mode,
              weightBp: stage.mode === 'canary' ? basisPoints(stage.weight) : 0,
              startedAt: new Date(m.stageStartedAt).toISOString(),
              endsAt: new Date(m.stageStartedAt + stage.duration + m.extensionMs).toISOString(),
            }
          : null,
      lastAnalysis: m.lastAnalysis,
      decision: m.decision,
      approvals: [...m.approvals, ...m.promotionApprovals],
      events: m.events,
    };
  };

  // Not carried across continue-as-new: a new run starts with no search attributes of its own to compare.
  let upsertedSearchKey: string | undefined;
  const showProgress = (): void => {
    const st = status();
    const stageLabel = st.stage
      ? `${st.stage.index + 1}/${policy.stages.length} ${st.stage.mode}${st.stage.mode === 'canary' ? ` ${percentOf(st.stage.weightBp)}%` : ''}`
      : '-';
    // An upsert is a history event and a visibility write on the server; done on every analysis of a
    // thousand rollouts it was a large share of the server's work, yet the values change only at
    // transitions. Histories recorded before the patch upserted every time and replay that way.
    const searchKey = `${m.state}\u0000${stageLabel}`;
    if (searchKey !== upsertedSearchKey || !patched('search-attributes-on-change')) {
      upsertedSearchKey = searchKey;
      upsertSearchAttributes([
        { key: SA_MODEL, value: input.model },
        { key: SA_VERSION, value: input.challenger },
        { key: SA_STATE, value: m.state },
        { key: SA_STAGE, value: stageLabel },
      ]);
    }
    const a = m.lastAnalysis;
    setCurrentDetails(
      [
        `**${input.model}** ${input.champion} → ${input.challenger}: **${m.state}**${m.paused ? ' (paused)' : ''}`,
        `stage ${stageLabel}`,
        a
          ? `last analysis #${a.seq}: ${a.decision} — n champion ${a.samples.champion}, challenger ${a.samples.challenger}` +
            (a.primary
              ? `; ${a.primary.metric} ${a.primary.estimate.toFixed(4)} [${a.primary.ci[0].toFixed(4)}, ${a.primary.ci[1].toFixed(4)}]`
              : '')
          : 'no analysis yet',
        a ? `why: ${a.summary}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  };

  const transition = async (
    to: RolloutState,
    actor: string,
    reason: string | null,
    type = 'transition',
    details: Record<string, unknown> = {},
  ): Promise<void> => {
    const event: RolloutEvent = {
      seq: ++m.seq,
      type,
      from: m.state,
      to,
      actor,
      reason,
      at: new Date(Date.now()).toISOString(),
    };
    m.state = to;
    m.events = [...m.events, event].slice(-RECENT_EVENTS);
    showProgress();
    await acts.recordRolloutEvent({ tenantId: input.tenantId, rolloutId, event, details });
  };

  const note = async (
    type: string,
    actor: string,
    reason: string | null,
    details: Record<string, unknown> = {},
  ): Promise<void> => {
    const event: RolloutEvent = {
      seq: ++m.seq,
      type,
      from: m.state,
      to: m.state,
      actor,
      reason,
      at: new Date(Date.now()).toISOString(),
    };
    m.events = [...m.events, event].slice(-RECENT_EVENTS);
    showProgress();
    await acts.recordRolloutEvent({ tenantId: input.tenantId, rolloutId, event, details });
  };

  const refuse = (message: string): never => {
    throw ApplicationFailure.create({ type: 'RolloutActionRefused', message, nonRetryable: true });
  };
  const isFinal = (): boolean => m.phase === 'done';
  const requireActor = (a: ActorInput | ApproveInput): void => {
    if (!a || typeof a.by !== 'string' || a.by.trim() === '') refuse('`by` (who is acting) is required');
  };

  // ---- people in the loop: approvals and operator actions, each validated before it is accepted ----
  const awaitingPromotionApproval = (): boolean =>
    m.phase === 'promotion' &&
    policy.promotion.requireApproval &&
    m.promotionApprovals.length < policy.approval.minApprovals;

  // From the moment the workflow starts (still `proposed` while it records itself), so an approval sent
  // right after `start` is not refused by a race.
  const awaitingRolloutApproval = (): boolean => m.phase === 'approval' && policy.approval.required;

  setHandler(statusQuery, status);
  setHandler(
    approveUpdate,
    async (a) => {
      const list = awaitingRolloutApproval() ? m.approvals : m.promotionApprovals;
      const approval: Approval = { by: a.by, comment: a.comment, at: new Date(Date.now()).toISOString() };
      list.push(approval);
      await acts.recordApproval({
        tenantId: input.tenantId,
        rolloutId,
        subject: awaitingRolloutApproval() ? 'rollout' : 'promotion',
        actor: a.by,
        decision: 'approved',
        comment: a.comment ?? null,
      });
      await note('approved', a.by, a.comment ?? null, {
        approvals: list.length,
        required: policy.approval.minApprovals,
      });
      return status();
    },
    {
      validator: (a) => {
        requireActor(a);
        if (!awaitingRolloutApproval() && !awaitingPromotionApproval())
          refuse(`rollout ${rolloutId} is ${m.state}; nothing awaits approval`);
        const { approvers, allowProposerApproval } = policy.approval;
        if (approvers.length > 0 && !approvers.includes(a.by))
          refuse(`${a.by} is not an approver of this rollout (approvers: ${approvers.join(', ')})`);
        if (approvers.length === 0 && a.roles && !a.roles.includes('approver'))
          refuse(`${a.by} lacks the approver role`);
        if (!allowProposerApproval && a.by === input.proposedBy)
          refuse(`${a.by} proposed this rollout and may not approve it (separation of duties)`);
        const list = awaitingRolloutApproval() ? m.approvals : m.promotionApprovals;
        if (list.some((x) => x.by === a.by)) refuse(`${a.by} has already approved`);
      },
    },
  );
  setHandler(
    rejectUpdate,
    async (a) => {
      m.rejected = a;
      await acts.recordApproval({
        tenantId: input.tenantId,
        rolloutId,
        subject: awaitingRolloutApproval() ? 'rollout' : 'promotion',
        actor: a.by,
        decision: 'rejected',
        comment: a.reason ?? null,
      });
      return status();
    },
    {
      validator: (a) => {
        requireActor(a);
        if (!awaitingRolloutApproval() && !awaitingPromotionApproval())
          refuse(`rollout ${rolloutId} is ${m.state}; nothing awaits approval to reject`);
      },
    },
  );
  setHandler(
    pauseUpdate,
    async (a) => {
      m.paused = true;
      m.pausedAt = Date.now();
      await note('paused', a.by, a.reason ?? null);
      return status();
    },
    {
      validator: (a) => {
        requireActor(a);
        if (m.paused) refuse('already paused');
        if (!['shadow', 'canary', 'deciding', 'watching'].includes(m.state))
          refuse(`cannot pause a rollout that is ${m.state}`);
      },
    },
  );
  setHandler(
    resumeUpdate,
    async (a) => {
      // Time spent paused does not count towards the stage.
      if (m.pausedAt !== null && m.stageStartedAt !== null && m.phase === 'stages')
        m.stageStartedAt += Date.now() - m.pausedAt;
      if (m.pausedAt !== null && m.watchStartedAt !== null && m.phase === 'watching')
        m.watchStartedAt += Date.now() - m.pausedAt;
      m.paused = false;
      m.pausedAt = null;
      await note('resumed', a.by, a.reason ?? null);
      return status();
    },
    {
      validator: (a) => {
        requireActor(a);
        if (!m.paused) refuse('not paused');
      },
    },
  );
  setHandler(
    abortUpdate,
    (a) => {
      m.abort = a;
      return Promise.resolve(status());
    },
    {
      validator: (a) => {
        requireActor(a);
        if (!a.reason || a.reason.trim() === '') refuse('a reason is required to abort');
        if (isFinal() || m.state === 'rolling_back') refuse(`rollout ${rolloutId} is already ${m.state}`);
        if (m.phase === 'watching')
          refuse('the challenger is already champion; use `arena rollback` to restore the previous champion');
      },
    },
  );
  setHandler(
    promoteNowUpdate,
    (a) => {
      m.promoteNow = a;
      return Promise.resolve(status());
    },
    {
      validator: (a) => {
        requireActor(a);
        if (!['shadow', 'canary', 'deciding'].includes(m.state))
          refuse(`cannot promote a rollout that is ${m.state}`);
      },
    },
  );

  const interrupted = (): boolean => m.abort !== null || m.promoteNow !== null || m.rejected !== null;

  const maybeContinueAsNew = async (): Promise<void> => {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? HISTORY_LIMIT)) {
      // Let in-flight update handlers finish so no approval is lost across the boundary.
      await condition(allHandlersFinished);
      await continueAsNew<typeof rolloutWorkflow>(input, m);
    }
  };

  const iso = (t: number): string => new Date(t).toISOString();
  /** A window of epoch times as the analysis reads it; `to: null` ends at each analysis (a running stage). */
  const toWindow = (w: { index: number; from: number; to: number | null }): WatchWindow => ({
    index: w.index,
    from: iso(w.from),
    to: w.to === null ? null : iso(w.to),
    mode: policy.stages[w.index]?.mode ?? 'canary',
  });

  const analyze = async (
    mode: AnalysisVerdict['mode'],
    windows: Array<{ index: number; from: number; to: number }>,
  ): Promise<AnalysisVerdict> => {
    // Histories recorded before the switch replay through the ordinary activity.
    const analyzeRollout = patched('analysis-as-local-activity')
      ? localActs.analyzeRollout
      : acts.analyzeRollout;
    const verdict = await analyzeRollout({
      tenantId: input.tenantId,
      rolloutId,
      seq: ++m.analysisSeq,
      stageIndex: m.stageIndex,
      mode,
      model: input.model,
      champion: mode === 'watch' ? m.previousChampion : input.champion,
      challenger: input.challenger,
      windows: windows.map((w) => ({ ...toWindow(w), to: iso(w.to) })),
      policy,
    });
    m.lastAnalysis = verdict;
    showProgress();
    return verdict;
  };

  /**
   * Analyses every interval until the watch hands a verdict back (see WATCH_HANDBACK_MS), or returns null
   * as soon as `stop()` holds (pause, abort, promote-now): the watch is then cancelled without waiting for
   * it, and the seqs reserved for it are skipped, so a late analysis of the cancelled watch can never
   * collide with a later one.
   */
  const watch = async (
    mode: AnalysisVerdict['mode'],
    windows: Array<{ index: number; from: number; to: number | null }>,
    deadline: number,
    stop: () => boolean,
  ): Promise<AnalysisVerdict | null> => {
    const interval = policy.analysis.interval;
    const maxAnalyses = Math.max(1, Math.floor(WATCH_HANDBACK_MS / interval));
    const firstSeq = m.analysisSeq + 1;
    const { watchStage } = proxyActivities<Pick<Activities, 'watchStage'>>({
      startToCloseTimeout: maxAnalyses * interval + 5 * 60_000,
      heartbeatTimeout: WATCH_HEARTBEAT_TIMEOUT_MS,
      cancellationType: ActivityCancellationType.TRY_CANCEL,
      retry: {
        initialInterval: '500 milliseconds',
        backoffCoefficient: 2,
        maximumInterval: '30 seconds',
        nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
      },
    });
    const watching = new CancellationScope();
    const stopping = new CancellationScope();
    const result = watching.run(() =>
      watchStage({
        tenantId: input.tenantId,
        rolloutId,
        stageIndex: m.stageIndex,
        mode,
        model: input.model,
        champion: mode === 'watch' ? m.previousChampion : input.champion,
        challenger: input.challenger,
        windows: windows.map(toWindow),
        policy,
        firstSeq,
        maxAnalyses,
        intervalMs: interval,
        deadline,
        lastDecision: m.lastAnalysis?.decision ?? null,
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
      m.lastAnalysis = first.verdict;
      showProgress();
      return first.verdict;
    } finally {
      stopping.cancel();
      stopped.catch(() => undefined);
    }
  };

  const rollBack = async (
    finalState: 'rolled_back' | 'aborted',
    actor: string,
    reason: string,
  ): Promise<RolloutStatus> => {
    await transition('rolling_back', actor, reason);
    // Traffic first: the champion serves everything before anything else is recorded.
    await acts.setRouting({
      model: input.model,
      change:
        m.phase === 'watching'
          ? { challenger: null, mode: 'off', weightBp: 0 }
          : { challenger: null, mode: 'off', weightBp: 0, shadow: [] },
      actor,
      reason,
      idempotencyKey: `${rolloutId}:rollback:routing`,
    });
    if (m.phase === 'watching') {
      await acts.promoteChampion({
        model: input.model,
        version: m.previousChampion,
        actor,
        reason: `rollback: ${reason}`,
        idempotencyKey: `${rolloutId}:rollback:champion`,
      });
    } else {
      await acts.setVersionStatus({
        model: input.model,
        version: input.challenger,
        to: 'rejected',
        actor,
        reason,
      });
    }
    await raiseAndNotify({
      tenantId: input.tenantId,
      type: 'rollback_executed',
      severity: 'critical',
      model: input.model,
      rolloutId,
      title: `${input.model} ${input.challenger} rolled back: ${reason}`,
      details: { actor, reason, lastAnalysis: m.lastAnalysis },
      dedupeKey: `${rolloutId}:rollback`,
    });
    m.decision = finalState === 'aborted' ? `aborted by ${actor}: ${reason}` : `rolled back: ${reason}`;
    m.phase = 'done';
    await transition(finalState, actor, reason);
    return status();
  };

  const finish = async (
    state: 'rejected' | 'expired',
    actor: string,
    reason: string,
  ): Promise<RolloutStatus> => {
    await acts.setVersionStatus({
      model: input.model,
      version: input.challenger,
      to: 'rejected',
      actor,
      reason,
    });
    m.decision = reason;
    m.phase = 'done';
    await transition(state, actor, reason);
    return status();
  };

  // ---- the lifecycle ----
  if (!carried) {
    await acts.recordRolloutStart({
      input,
      workflowId: workflowInfo().workflowId,
      runId: workflowInfo().runId,
    });
    showProgress();
  }

  if (m.phase === 'approval') {
    if (policy.approval.required) {
      if (m.state !== 'awaiting_approval')
        await transition('awaiting_approval', input.proposedBy, 'proposed; waiting for approval');
      const approved = (): boolean => m.approvals.length >= policy.approval.minApprovals;
      const deadline =
        Date.parse(
          m.events.find((e) => e.to === 'awaiting_approval')?.at ?? new Date(Date.now()).toISOString(),
        ) + policy.approval.timeout;
      const warnAt = deadline - policy.approval.warnBefore;
      if (
        Date.now() < warnAt &&
        !(await condition(() => approved() || m.rejected !== null || m.abort !== null, warnAt - Date.now()))
      ) {
        await raiseAndNotify({
          tenantId: input.tenantId,
          type: 'approval_expiring',
          severity: 'warning',
          model: input.model,
          rolloutId,
          title: `${input.model} ${input.challenger}: approval expires at ${new Date(deadline).toISOString()}`,
          details: { approvals: m.approvals, required: policy.approval.minApprovals },
          dedupeKey: `${rolloutId}:approval_expiring`,
        });
      }
      const settled = await condition(
        () => approved() || m.rejected !== null || m.abort !== null,
        Math.max(0, deadline - Date.now()),
      );
      if (m.rejected) return finish('rejected', m.rejected.by, m.rejected.reason ?? 'rejected');
      if (m.abort) return finish('rejected', m.abort.by, m.abort.reason ?? 'withdrawn');
      if (!settled) {
        await raiseAndNotify({
          tenantId: input.tenantId,
          type: 'approval_expired',
          severity: 'warning',
          model: input.model,
          rolloutId,
          title: `${input.model} ${input.challenger}: no approval within ${policy.approval.timeout / 1000}s; rollout expired`,
          details: { approvals: m.approvals },
          dedupeKey: `${rolloutId}:expired`,
        });
        return finish('expired', 'arena', 'approval timed out');
      }
    }
    m.phase = 'stages';
  }

  if (m.phase === 'stages') {
    for (; m.stageIndex < policy.stages.length; m.stageIndex++) {
      const stage = policy.stages[m.stageIndex]!;
      if (m.stageStartedAt === null) {
        await acts.setRouting({
          model: input.model,
          change:
            stage.mode === 'shadow'
              ? { challenger: input.challenger, mode: 'shadow' }
              : { challenger: input.challenger, mode: 'canary', weightBp: basisPoints(stage.weight) },
          actor: 'arena',
          reason: `rollout ${rolloutId} stage ${m.stageIndex + 1}`,
          idempotencyKey: `${rolloutId}:stage:${m.stageIndex}`,
        });
        await acts.setVersionStatus({
          model: input.model,
          version: input.challenger,
          to: stage.mode === 'shadow' ? 'shadow' : 'challenger',
          actor: 'arena',
          reason: `stage ${m.stageIndex + 1}`,
        });
        m.stageStartedAt = Date.now();
        m.extensionMs = 0;
        await transition(
          stage.mode,
          'arena',
          `stage ${m.stageIndex + 1}/${policy.stages.length}: ${stage.mode}${stage.mode === 'canary' ? ` ${stage.weight}%` : ''} for ${stage.duration / 1000}s`,
        );
      }
      for (;;) {
        const deadline = m.stageStartedAt + stage.duration + m.extensionMs;
        let verdict: AnalysisVerdict;
        if (patched('stage-watcher')) {
          const watched =
            interrupted() || m.paused
              ? null
              : await watch(
                  stage.mode,
                  [{ index: m.stageIndex, from: m.stageStartedAt, to: null }],
                  deadline,
                  () => interrupted() || m.paused,
                );
          if (m.abort) return rollBack('aborted', m.abort.by, m.abort.reason ?? 'aborted');
          if (m.promoteNow) break;
          if (m.paused || !watched) {
            await condition(() => !m.paused || interrupted());
            continue;
          }
          verdict = watched;
        } else {
          await condition(
            () => interrupted() || m.paused,
            Math.max(1, Math.min(policy.analysis.interval, deadline - Date.now())),
          );
          if (m.abort) return rollBack('aborted', m.abort.by, m.abort.reason ?? 'aborted');
          if (m.promoteNow) break;
          if (m.paused) {
            await condition(() => !m.paused || interrupted());
            continue;
          }
          verdict = await analyze(stage.mode, [
            { index: m.stageIndex, from: m.stageStartedAt, to: Date.now() },
          ]);
        }
        if (verdict.decision === 'fail')
          return rollBack('rolled_back', 'arena', verdict.summary || 'the gate failed');
        if (verdict.decision === 'invalid') {
          m.paused = true;
          m.pausedAt = Date.now();
          await raiseAndNotify({
            tenantId: input.tenantId,
            type: 'srm_detected',
            severity: 'critical',
            model: input.model,
            rolloutId,
            title: `${input.model} ${input.challenger}: sample ratio mismatch; rollout paused, data invalid`,
            details: { analysis: verdict },
            dedupeKey: `${rolloutId}:srm:${m.stageIndex}`,
          });
          await note('paused', 'arena', `sample ratio mismatch: ${verdict.summary}`);
          continue;
        }
        if (Date.now() >= deadline) {
          const last = m.stageIndex === policy.stages.length - 1;
          // Earlier stages guard safety (no failure, enough data); the final decision needs a pass.
          const enough = last
            ? verdict.decision === 'pass'
            : verdict.decision === 'pass' || verdict.decision === 'inconclusive';
          if (enough || m.extensionMs >= policy.analysis.maxExtension) break;
          m.extensionMs = Math.min(policy.analysis.maxExtension, m.extensionMs + policy.analysis.interval);
          if (m.extensionMs === policy.analysis.interval)
            await note(
              'extended',
              'arena',
              `${verdict.decision} at the end of stage ${m.stageIndex + 1}; waiting up to ${policy.analysis.maxExtension / 1000}s more`,
            );
        }
        await maybeContinueAsNew();
      }
      m.stageWindows.push({ index: m.stageIndex, from: m.stageStartedAt, to: Date.now() });
      m.stageStartedAt = null;
      if (m.promoteNow) break;
    }
    m.phase = 'deciding';
  }

  if (m.phase === 'deciding') {
    if (m.promoteNow) {
      await note('promote_now', m.promoteNow.by, m.promoteNow.reason ?? 'promote now');
      m.decision = `promoted early by ${m.promoteNow.by}`;
    } else {
      await transition('deciding', 'arena', 'all stages complete');
      const canaryWindows = m.stageWindows.filter((w) => policy.stages[w.index]?.mode === 'canary');
      const verdict = await analyze('final', canaryWindows.length ? canaryWindows : m.stageWindows);
      let outcome: 'promote' | 'rollback' | 'ask' =
        verdict.decision === 'pass' ? 'promote' : verdict.decision === 'fail' ? 'rollback' : 'ask';
      if (outcome === 'ask' && policy.onInconclusive !== 'ask') outcome = policy.onInconclusive;
      if (outcome === 'rollback')
        return rollBack('rolled_back', 'arena', `final decision: ${verdict.decision}; ${verdict.summary}`);
      if (outcome === 'ask') {
        await raiseAndNotify({
          tenantId: input.tenantId,
          type: 'promotion_pending',
          severity: 'warning',
          model: input.model,
          rolloutId,
          title: `${input.model} ${input.challenger}: inconclusive; promote or abort?`,
          details: { analysis: verdict },
          dedupeKey: `${rolloutId}:promotion_pending`,
        });
        await note('decision_requested', 'arena', `inconclusive: ${verdict.summary}`);
        await condition(() => m.abort !== null || m.promoteNow !== null);
        if (m.abort) return rollBack('aborted', m.abort.by, m.abort.reason ?? 'aborted');
        m.decision = `promoted by ${m.promoteNow!.by} after an inconclusive result`;
      } else {
        m.decision = `promote: ${verdict.summary || 'the challenger passed the gate'}`;
      }
    }
    m.phase = 'promotion';
  }

  if (m.phase === 'promotion') {
    await transition('promoting', 'arena', m.decision);
    if (policy.promotion.requireApproval) {
      await raiseAndNotify({
        tenantId: input.tenantId,
        type: 'promotion_pending',
        severity: 'warning',
        model: input.model,
        rolloutId,
        title: `${input.model} ${input.challenger} passed; approve the promotion`,
        details: { analysis: m.lastAnalysis },
        dedupeKey: `${rolloutId}:promotion_approval`,
      });
      await condition(
        () =>
          m.promotionApprovals.length >= policy.approval.minApprovals ||
          m.rejected !== null ||
          m.abort !== null,
      );
      if (m.rejected || m.abort) {
        const who = (m.rejected ?? m.abort)!;
        return rollBack('aborted', who.by, who.reason ?? 'promotion rejected');
      }
    }
    await acts.promoteChampion({
      model: input.model,
      version: input.challenger,
      actor: 'arena',
      reason: m.decision ?? 'promoted',
      idempotencyKey: `${rolloutId}:promote`,
    });
    if (policy.watch.holdback > 0) {
      await acts.setRouting({
        model: input.model,
        change: {
          challenger: m.previousChampion,
          mode: 'canary',
          weightBp: basisPoints(policy.watch.holdback),
        },
        actor: 'arena',
        reason: `holdback ${policy.watch.holdback}% on the previous champion during the watch`,
        idempotencyKey: `${rolloutId}:holdback`,
      });
    }
    m.phase = 'watching';
    m.watchStartedAt = Date.now();
    await transition('watching', 'arena', `promoted; watching for ${policy.watch.duration / 1000}s`);
  }

  if (m.phase === 'watching') {
    while (m.watchStartedAt !== null && Date.now() < m.watchStartedAt + policy.watch.duration) {
      const lastStage = m.stageWindows[m.stageWindows.length - 1];
      let verdict: AnalysisVerdict;
      if (patched('stage-watcher')) {
        const watched = m.paused
          ? null
          : await watch(
              'watch',
              [
                ...(lastStage ? [lastStage] : []),
                { index: policy.stages.length, from: m.watchStartedAt, to: null },
              ],
              m.watchStartedAt + policy.watch.duration,
              () => m.paused,
            );
        if (m.paused || !watched) {
          await condition(() => !m.paused);
          continue;
        }
        verdict = watched;
      } else {
        await condition(
          () => m.paused,
          Math.max(
            1,
            Math.min(policy.analysis.interval, m.watchStartedAt + policy.watch.duration - Date.now()),
          ),
        );
        if (m.paused) {
          await condition(() => !m.paused);
          continue;
        }
        verdict = await analyze('watch', [
          ...(lastStage ? [lastStage] : []),
          { index: policy.stages.length, from: m.watchStartedAt, to: Date.now() },
        ]);
      }
      if (verdict.decision === 'fail')
        return rollBack('rolled_back', 'arena', `breach during watch: ${verdict.summary}`);
      await maybeContinueAsNew();
    }
    if (policy.watch.holdback > 0) {
      await acts.setRouting({
        model: input.model,
        change: { challenger: null, mode: 'off', weightBp: 0 },
        actor: 'arena',
        reason: 'watch complete',
        idempotencyKey: `${rolloutId}:holdback:end`,
      });
    }
    m.phase = 'done';
    await transition('promoted', 'arena', 'watch window passed');
  }
  return status();
}
