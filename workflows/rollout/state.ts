import { defineSearchAttributeKey } from '@temporalio/common';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AlertInput } from '../../activities/rollout-records.js';
import type { Policy } from '../../src/policy/policy.js';
import type {
  AbortInput,
  ActorInput,
  AnalysisVerdict,
  Approval,
  ApproveInput,
  RolloutEvent,
  RolloutInput,
  RolloutState,
  RolloutStatus,
} from '../../src/rollout/types.js';
import { lifecycleEvent } from './lifecycle-events.js';
import { parseActionInput, shown, type RolloutAction } from '../../src/rollout/action-input.js';
import { basisPoints, percentOf } from '../../src/routing/weight.js';
import { raiseAndNotify } from '../alerting.js';
import { acts } from './activities.js';

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
  abort: AbortInput | null;
  rejected: ActorInput | null;
  promoteNow: ActorInput | null;
  lastAnalysis: AnalysisVerdict | null;
  decision: string | null;
  events: RolloutEvent[];
  phase: 'approval' | 'stages' | 'deciding' | 'promotion' | 'watching' | 'done';
  watchStartedAt: number | null;
  previousChampion: string;
  /**
   * Analyses in a row in which a metric source failed (AnalysisVerdict.sourceErrors); absent in memory
   * carried from runs before it was counted.
   */
  sourceErrorStreak?: number;
  /** The final verdict's partial adoption, applied at promotion (absent in memory from earlier runs). */
  partialAdoption?: { key: string; exclude: string[] } | undefined;
  /** The figures of the verdict the challenger was promoted on, for the promotion's notification. */
  promotionFigures?: Record<string, string | number> | undefined;
}

const RECENT_EVENTS = 100;
/** Continue-as-new well before Temporal's limits; a 7-day canary at a 1-minute interval is ~30k events. */
const HISTORY_LIMIT = 4_000;

/** One rollout event: a transition when `to` is given, otherwise a note that leaves the state as it is. */
export interface RecordInput {
  type?: string;
  to?: RolloutState;
  actor: string;
  reason: string | null;
  details?: Record<string, unknown>;
}

/** An alert about this rollout; tenant, model and rollout id are filled in. */
export type RolloutAlert = Omit<AlertInput, 'tenantId' | 'model' | 'rolloutId'>;

/**
 * One rollout as its workflow sees it: the memory carried across continue-as-new, what the status query and
 * the Web UI show, and the people-in-the-loop actions once their validators (handlers.ts) accepted them.
 */
export class Rollout {
  readonly memory: RolloutMemory;
  // Not carried across continue-as-new: a new run starts with no search attributes of its own to compare.
  private upsertedSearchKey: string | undefined;
  /**
   * Whether this run's watch acts on an abort (set as the watch starts, per run). Runs whose history began
   * before 'abort-during-watch' refused aborts during the watch and ignored one accepted just before it;
   * they replay that way, and their validator goes on refusing (handlers.ts).
   */
  watchHonoursAbort: boolean | undefined;

  constructor(
    readonly input: RolloutInput,
    carried?: RolloutMemory,
  ) {
    this.memory = carried ?? {
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
  }

  get policy(): Policy {
    return this.input.policy;
  }
  get id(): string {
    return this.input.rolloutId;
  }

  status(): RolloutStatus {
    const { input, memory: m, policy } = this;
    const stage = m.phase === 'stages' ? policy.stages[m.stageIndex] : undefined;
    return {
      rolloutId: input.rolloutId,
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
  }

  /** Search attributes (for the Web UI's filters) and the workflow's current details. */
  showProgress(): void {
    const { input, memory: m, policy } = this;
    const st = this.status();
    const stageLabel = st.stage
      ? `${st.stage.index + 1}/${policy.stages.length} ${st.stage.mode}${st.stage.mode === 'canary' ? ` ${percentOf(st.stage.weightBp)}%` : ''}`
      : '-';
    // An upsert is a history event and a visibility write on the server; done on every analysis of a
    // thousand rollouts it was a large share of the server's work, yet the values change only at
    // transitions. Histories recorded before the patch upserted every time and replay that way.
    const searchKey = `${m.state}\u0000${stageLabel}`;
    if (searchKey !== this.upsertedSearchKey || !patched('search-attributes-on-change')) {
      this.upsertedSearchKey = searchKey;
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
  }

  /** Keeps an analysis as the rollout's latest and shows it. */
  /**
   * Takes a verdict in; `sourceErrorStreak` is the watch's count when it ran analyses the workflow did not
   * see, otherwise this verdict extends or ends the streak.
   */
  analysed(verdict: AnalysisVerdict, sourceErrorStreak?: number): AnalysisVerdict {
    const m = this.memory;
    m.sourceErrorStreak =
      sourceErrorStreak ?? (verdict.sourceErrors?.length ? (m.sourceErrorStreak ?? 0) + 1 : 0);
    this.memory.lastAnalysis = verdict;
    this.showProgress();
    return verdict;
  }

  /** Writes one event to rollout_events and the audit ledger; with `to`, the rollout moves to that state. */
  async record({
    type = 'transition',
    to = this.memory.state,
    actor,
    reason,
    details = {},
  }: RecordInput): Promise<void> {
    const m = this.memory;
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
    this.showProgress();
    await acts.recordRolloutEvent({ tenantId: this.input.tenantId, rolloutId: this.id, event, details });
    // Histories recorded before lifecycle notifications replay without them.
    const notice = type === 'transition' && event.from !== to ? lifecycleEvent(this, to) : null;
    if (notice && patched('lifecycle-notifications')) await this.alert(notice);
  }

  alert(a: RolloutAlert): Promise<void> {
    const { input } = this;
    return raiseAndNotify({
      tenantId: input.tenantId,
      type: a.type,
      severity: a.severity,
      model: input.model,
      rolloutId: input.rolloutId,
      title: a.title,
      details: a.details,
      dedupeKey: a.dedupeKey,
    });
  }

  /** Abort, promote-now or rejection: what ends a stage's waiting before its time. */
  interrupted(): boolean {
    const m = this.memory;
    return m.abort !== null || m.promoteNow !== null || m.rejected !== null;
  }

  // From the moment the workflow starts (still `proposed` while it records itself), so an approval sent
  // right after `start` is not refused by a race.
  awaitingRolloutApproval(): boolean {
    return this.memory.phase === 'approval' && this.policy.approval.required;
  }

  awaitingPromotionApproval(): boolean {
    const { memory: m, policy } = this;
    return (
      m.phase === 'promotion' &&
      policy.promotion.requireApproval &&
      m.promotionApprovals.length < policy.approval.minApprovals
    );
  }

  async continueAsNewIfLong(): Promise<void> {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (this.input.historyLimit ?? HISTORY_LIMIT)) {
      // Let in-flight update handlers finish so no approval is lost across the boundary.
      await condition(allHandlersFinished);
      // The workflow's signature, spelled out: importing it from workflow.ts would close an import circle.
      await continueAsNew<(input: RolloutInput, carried?: RolloutMemory) => Promise<RolloutStatus>>(
        this.input,
        this.memory,
      );
    }
  }

  // ---- people in the loop: each action runs only once its validator (handlers.ts) accepted it ----

  /**
   * A signal its validator refused: nobody can be answered, so the refusal goes where people look (the
   * rollout's events, the audit log, an alert), saying who tried what and why. The sender and payload are
   * shown as JSON and cut short, so hostile input is recorded as text PostgreSQL can store.
   */
  async refusedSignal(action: RolloutAction, payload: unknown, why: string): Promise<void> {
    const by = (payload as { by?: unknown } | null | undefined)?.by;
    const sender =
      typeof by === 'string' && parseActionInput(action, { by }).ok
        ? by
        : by === undefined
          ? 'unknown sender'
          : `unknown sender (by: ${shown(by, 80)})`;
    const reason = `${action} signal refused: ${why}`;
    await this.record({
      type: 'signal_refused',
      actor: sender,
      reason,
      details: { action, payload: shown(payload, 1000) },
    });
    const { input } = this;
    await this.alert({
      type: 'signal_refused',
      severity: 'warning',
      title: `${input.model} ${input.challenger}: ${sender} sent ${action} by signal; refused: ${why}`,
      details: { action, sender, reason: why, payload: shown(payload, 1000), state: this.memory.state },
      // One alert per refused signal: the event's sequence number makes retries of the alert idempotent.
      dedupeKey: `${input.rolloutId}:signal_refused:${this.memory.seq}`,
    });
  }

  async approve(a: ApproveInput): Promise<RolloutStatus> {
    const subject = this.awaitingRolloutApproval() ? 'rollout' : 'promotion';
    const list = subject === 'rollout' ? this.memory.approvals : this.memory.promotionApprovals;
    const approval: Approval = { by: a.by, comment: a.comment, at: new Date(Date.now()).toISOString() };
    list.push(approval);
    await acts.recordApproval({
      tenantId: this.input.tenantId,
      rolloutId: this.id,
      subject,
      actor: a.by,
      decision: 'approved',
      comment: a.comment ?? null,
    });
    await this.record({
      type: 'approved',
      actor: a.by,
      reason: a.comment ?? null,
      details: { approvals: list.length, required: this.policy.approval.minApprovals },
    });
    return this.status();
  }

  async reject(a: ActorInput): Promise<RolloutStatus> {
    this.memory.rejected = a;
    await acts.recordApproval({
      tenantId: this.input.tenantId,
      rolloutId: this.id,
      subject: this.awaitingRolloutApproval() ? 'rollout' : 'promotion',
      actor: a.by,
      decision: 'rejected',
      comment: a.reason ?? null,
    });
    return this.status();
  }

  async pause(a: ActorInput): Promise<RolloutStatus> {
    this.memory.paused = true;
    this.memory.pausedAt = Date.now();
    await this.record({ type: 'paused', actor: a.by, reason: a.reason ?? null });
    return this.status();
  }

  async resume(a: ActorInput): Promise<RolloutStatus> {
    const m = this.memory;
    // Time spent paused does not count towards the stage.
    if (m.pausedAt !== null && m.stageStartedAt !== null && m.phase === 'stages')
      m.stageStartedAt += Date.now() - m.pausedAt;
    if (m.pausedAt !== null && m.watchStartedAt !== null && m.phase === 'watching')
      m.watchStartedAt += Date.now() - m.pausedAt;
    m.paused = false;
    m.pausedAt = null;
    // A person resumed: metric sources get consecutiveErrorLimit analyses afresh.
    m.sourceErrorStreak = 0;
    await this.record({ type: 'resumed', actor: a.by, reason: a.reason ?? null });
    return this.status();
  }

  /**
   * Acted on by the running phase: before promotion the challenger is rejected, after it (during the watch)
   * the previous champion is restored.
   */
  abort(a: AbortInput): Promise<RolloutStatus> {
    this.memory.abort = a;
    return Promise.resolve(this.status());
  }

  promoteNow(a: ActorInput): Promise<RolloutStatus> {
    this.memory.promoteNow = a;
    return Promise.resolve(this.status());
  }
}
