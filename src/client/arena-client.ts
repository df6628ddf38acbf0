import {
  Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { defineSearchAttributeKey, TypedSearchAttributes, type UpdateDefinition } from '@temporalio/common';
import type { Knex } from 'knex';
import { prepareRollout, type StartRolloutInput } from '../rollout/prepare.js';
import {
  activeRolloutOfModel,
  getRolloutRow,
  getRolloutRun,
  insertRollout,
  latestAnalysis,
  listRolloutEvents,
  listRollouts,
} from '../rollout/store.js';
export { rolloutWorkflowId, type StartRolloutInput } from '../rollout/prepare.js';
import { appendAudit } from '../db/audit.js';
import type {
  AbortInput,
  ActorInput,
  ApproveInput,
  RolloutEvent,
  RolloutState,
  RolloutStatus,
} from '../rollout/types.js';
import { UserFacingError } from '../errors.js';
import {
  abortUpdate,
  approveUpdate,
  pauseUpdate,
  promoteNowUpdate,
  rejectUpdate,
  resumeUpdate,
  statusQuery,
} from '../rollout/messages.js';
import type { rolloutWorkflow } from '../../workflows/rollout/workflow.js';

export interface ArenaClientOptions {
  temporal: Client;
  knex: Knex;
  taskQueue: string;
  tenantId?: string;
  /**
   * Prefix of rollout workflow ids (default "rollout"). Two Arena deployments sharing a Temporal namespace
   * need different prefixes; tests use a random one.
   */
  workflowIdPrefix?: string;
}

export interface RolloutSummary {
  rolloutId: string;
  model: string;
  champion: string | null;
  challenger: string;
  state: RolloutState;
  proposedBy: string;
  createdAt: Date;
  endedAt: Date | null;
  decision: string | null;
}

/**
 * The typed way to drive Arena from code: start a rollout, approve, pause, abort, promote, query it.
 * Wraps the Temporal client (workflow start, Updates with validators, queries) and the rollouts table.
 */
export class ArenaClient {
  private readonly tenantId: string;
  constructor(private readonly options: ArenaClientOptions) {
    this.tenantId = options.tenantId ?? 'default';
  }

  async startRollout(input: StartRolloutInput): Promise<{ rolloutId: string; workflowId: string }> {
    const prepared = await prepareRollout(
      this.options.knex,
      this.tenantId,
      input,
      this.options.workflowIdPrefix,
    );
    const { args, workflowId } = prepared;
    const { rolloutId } = args;
    let runId: string;
    try {
      const handle = await this.options.temporal.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
        taskQueue: this.options.taskQueue,
        workflowId,
        args: [args],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        typedSearchAttributes: new TypedSearchAttributes(
          Object.entries(prepared.searchAttributes).map(([name, value]) => ({
            key: defineSearchAttributeKey(name, 'KEYWORD'),
            value,
          })),
        ),
        staticSummary: prepared.summary,
      });
      runId = handle.firstExecutionRunId;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const active = await activeRolloutOfModel(this.options.knex, this.tenantId, input.model);
        throw new UserFacingError(
          `A rollout of ${input.model} is already active${active ? ` (${active.id})` : ''}`,
          `Finish or abort it first: arena rollout abort ${active ? active.id : 'ROLLOUT_ID'} --by WHO --reason TEXT`,
          { cause: err },
        );
      }
      throw err;
    }
    // The workflow records itself too (idempotently); writing the row here lets the caller use the id at once.
    await insertRollout(this.options.knex, { input: args, workflowId, runId });
    return { rolloutId, workflowId };
  }

  private async handle(rolloutId: string): Promise<WorkflowHandle<typeof rolloutWorkflow>> {
    const row = await getRolloutRun(this.options.knex, this.tenantId, rolloutId);
    if (!row)
      throw new UserFacingError(`No rollout ${rolloutId}`, 'List rollouts: arena rollout list', {
        code: 'not_found',
      });
    // The stored run id is the chain's first: with firstExecutionRunId the handle follows continue-as-new to
    // the current run (queries, updates, the final result) and never reaches a later rollout of the model.
    return this.options.temporal.workflow.getHandle<typeof rolloutWorkflow>(
      row.workflow_id as string,
      undefined,
      {
        firstExecutionRunId: row.run_id as string,
      },
    );
  }

  /** Live status from the workflow (query); for a finished rollout whose history is gone, from Postgres. */
  async status(rolloutId: string): Promise<RolloutStatus> {
    const handle = await this.handle(rolloutId);
    let live: RolloutStatus;
    try {
      live = await handle.query(statusQuery);
    } catch {
      return this.statusFromDatabase(rolloutId);
    }
    // The workflow hears from its stage watch only when there is something to act on (or once a minute);
    // every analysis in between is in the analyses table, so the freshest one comes from there. Only while
    // a watch runs: a watch cancelled by pause or abort may go on storing analyses until it hears of it
    // (docs/rollouts.md), and those are not the rollout's current state.
    if (live.paused || !['shadow', 'canary', 'watching'].includes(live.state)) return live;
    const stored = await latestAnalysis(this.options.knex, this.tenantId, rolloutId);
    if (stored && (live.lastAnalysis === null || stored.seq > live.lastAnalysis.seq))
      live.lastAnalysis = stored;
    return live;
  }

  private async statusFromDatabase(rolloutId: string): Promise<RolloutStatus> {
    const row = (await getRolloutRow(this.options.knex, this.tenantId, rolloutId))!;
    const events = await listRolloutEvents(this.options.knex, this.tenantId, rolloutId);
    const analysis = await latestAnalysis(this.options.knex, this.tenantId, rolloutId);
    return {
      rolloutId,
      model: row.model as string,
      champion: row.champion as string,
      challenger: row.challenger as string,
      state: row.state as RolloutState,
      paused: false,
      stage: null,
      lastAnalysis: analysis,
      decision: (row.decision as string | null) ?? null,
      approvals: [],
      events: events.map((e): RolloutEvent => ({
        seq: e.seq as number,
        type: e.type as string,
        from: e.from_state as RolloutState | null,
        to: e.to_state as RolloutState | null,
        actor: e.actor as string,
        reason: e.reason as string | null,
        at: (e.at as Date).toISOString(),
      })),
    };
  }

  async list(filter: { model?: string; active?: boolean } = {}): Promise<RolloutSummary[]> {
    const rows = await listRollouts(this.options.knex, this.tenantId, { ...filter, limit: 200 });
    return rows.map((r) => ({
      rolloutId: r.id as string,
      model: r.model as string,
      champion: r.champion as string | null,
      challenger: r.challenger as string,
      state: r.state as RolloutState,
      proposedBy: r.proposed_by as string,
      createdAt: r.created_at as Date,
      endedAt: (r.ended_at as Date | null) ?? null,
      decision: (r.decision as string | null) ?? null,
    }));
  }

  private async update<A extends ActorInput | ApproveInput>(
    rolloutId: string,
    update: UpdateDefinition<RolloutStatus, [A]>,
    arg: A,
  ): Promise<RolloutStatus> {
    const handle = await this.handle(rolloutId);
    try {
      return await handle.executeUpdate(update, { args: [arg] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const message = (err.cause as Error | undefined)?.message ?? err.message;
        throw new UserFacingError(
          `${update.name} refused: ${message}`,
          `See the rollout's state: arena rollout status ${rolloutId}`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  approve(rolloutId: string, a: ApproveInput): Promise<RolloutStatus> {
    return this.update(rolloutId, approveUpdate, a);
  }
  reject(rolloutId: string, a: ActorInput): Promise<RolloutStatus> {
    return this.update(rolloutId, rejectUpdate, a);
  }
  pause(rolloutId: string, a: ActorInput): Promise<RolloutStatus> {
    return this.update(rolloutId, pauseUpdate, a);
  }
  resume(rolloutId: string, a: ActorInput): Promise<RolloutStatus> {
    return this.update(rolloutId, resumeUpdate, a);
  }
  /** Traffic back to the champion; the version stays retryable unless `reject` (docs/rollouts.md). */
  abort(rolloutId: string, a: AbortInput): Promise<RolloutStatus> {
    return this.update(rolloutId, abortUpdate, a);
  }

  /**
   * Starts a new rollout of an ended rollout's version, with its policy, linked to it (`retry_of`, and an
   * audit entry). Refused while the rollout runs, after it promoted, and for a version that was rejected.
   */
  async retry(rolloutId: string, a: ActorInput): Promise<{ rolloutId: string; workflowId: string }> {
    const row = await getRolloutRow(this.options.knex, this.tenantId, rolloutId);
    if (!row)
      throw new UserFacingError(`No rollout ${rolloutId}`, 'List rollouts: arena rollout list', {
        code: 'not_found',
      });
    // The workflow's own state: the row trails it by a moment after each transition.
    const { state } = await this.status(rolloutId);
    if (!['aborted', 'expired', 'rolled_back', 'rejected'].includes(state))
      throw new UserFacingError(
        `Rollout ${rolloutId} is ${state}: only a rollout that ended without promoting can be retried`,
        state === 'promoted'
          ? `Its version is champion already; to restore the one before: arena model undo ${row.model}`
          : `Abort it first: arena rollout abort ${rolloutId} --by WHO --reason TEXT`,
        { code: 'conflict' },
      );
    const started = await this.startRollout({
      model: row.model,
      challenger: row.challenger,
      policy: row.policy as StartRolloutInput['policy'],
      proposedBy: a.by,
      retryOf: rolloutId,
    });
    await appendAudit(this.options.knex, {
      tenantId: this.tenantId,
      actor: a.by,
      action: 'rollout.retry',
      entityType: 'rollout',
      entityId: started.rolloutId,
      details: { retryOf: rolloutId, model: row.model, version: row.challenger, reason: a.reason ?? null },
      idempotencyKey: `rollout-retry:${this.tenantId}:${started.rolloutId}`,
    });
    return started;
  }
  promoteNow(rolloutId: string, a: ActorInput): Promise<RolloutStatus> {
    return this.update(rolloutId, promoteNowUpdate, a);
  }

  /** Waits for the workflow to finish and returns its final status. */
  async result(rolloutId: string): Promise<RolloutStatus> {
    return (await this.handle(rolloutId)).result();
  }
}
