import { Context } from '@temporalio/activity';
import { insertAlert } from '../src/alerts/alert-store.js';
import { insertApproval } from '../src/approvals/approval-store.js';
import { appendAudit } from '../src/db/audit.js';
import {
  firstFailingAnalysisAt,
  insertRollout,
  insertRolloutEvent,
  isRolloutRecorded,
  setRolloutState,
} from '../src/rollout/store.js';
import type { RolloutEvent, RolloutInput } from '../src/rollout/types.js';
import type { WorkerMetrics } from '../src/worker/metrics.js';
import type { ActivityDeps } from './deps.js';

export interface AlertInput {
  tenantId: string;
  type: string;
  severity: 'info' | 'warning' | 'critical';
  model: string;
  /** Null for alerts about a model rather than a rollout (drift, backtests). */
  rolloutId: string | null;
  title: string;
  details: unknown;
  /** One alert per key however often a retried activity raises it. */
  dedupeKey: string;
}

/**
 * The rollout's records in Postgres: its row, its events, approvals and alerts. Every write is keyed
 * (rollout id + sequence, approval subject + actor, alert dedupe key) so a retried activity writes once,
 * and every event also goes to the audit ledger in the same transaction.
 */
export function rolloutRecordActivities({ knex, metrics }: ActivityDeps) {
  return {
    /**
     * Resolves once a rollout started as a child workflow has recorded its row (its first activity), and
     * fails retryably until then: an alert naming the rollout must not reach people before `arena alerts
     * approve` or `arena rollout status` can find it.
     */
    async awaitRolloutRecorded(args: { tenantId: string; rolloutId: string }): Promise<void> {
      if (!(await isRolloutRecorded(knex, args.tenantId, args.rolloutId)))
        throw new Error(`rollout ${args.rolloutId} is not recorded yet`);
    },
    async recordRolloutStart(args: {
      input: RolloutInput;
      workflowId: string;
      runId: string;
    }): Promise<void> {
      const { input } = args;
      await knex.transaction(async (trx) => {
        const inserted = await insertRollout(trx, {
          input,
          workflowId: args.workflowId,
          runId: args.runId,
        });
        if (!inserted) return;
        await appendAudit(trx, {
          tenantId: input.tenantId,
          actor: input.proposedBy,
          action: 'rollout.propose',
          entityType: 'rollout',
          entityId: input.rolloutId,
          details: {
            model: input.model,
            champion: input.champion,
            challenger: input.challenger,
            policy: input.policy,
          },
          idempotencyKey: `${input.rolloutId}:propose`,
        });
      });
    },

    async recordRolloutEvent(args: {
      tenantId: string;
      rolloutId: string;
      event: RolloutEvent;
      details: Record<string, unknown>;
    }): Promise<void> {
      const { event } = args;
      const stored = await knex.transaction(async (trx) => {
        const inserted = await insertRolloutEvent(trx, {
          tenantId: args.tenantId,
          rolloutId: args.rolloutId,
          ...event,
          details: args.details,
        });
        if (!inserted) return false;
        if (event.type === 'transition' && event.to)
          await setRolloutState(trx, args.rolloutId, { state: event.to, at: event.at, reason: event.reason });
        await appendAudit(trx, {
          tenantId: args.tenantId,
          actor: event.actor,
          action: `rollout.${event.type}`,
          entityType: 'rollout',
          entityId: args.rolloutId,
          details: { from: event.from, to: event.to, reason: event.reason, ...args.details },
          idempotencyKey: `${args.rolloutId}:event:${event.seq}`,
          at: new Date(event.at),
        });
        return true;
      });
      // After the commit, and only for the write that stored it: a retried activity observes nothing twice.
      // A metric is never worth failing the record for: a read that fails here loses one observation.
      if (stored && metrics && event.type === 'transition' && event.to === 'rolled_back')
        await observeBreachToRollback(knex, metrics, args.tenantId, args.rolloutId, event.at).catch(
          () => undefined,
        );
    },

    async recordApproval(args: {
      tenantId: string;
      rolloutId: string;
      subject: 'rollout' | 'promotion';
      actor: string;
      decision: 'approved' | 'rejected';
      comment: string | null;
    }): Promise<void> {
      await knex.transaction(async (trx) => {
        const inserted = await insertApproval(trx, {
          tenantId: args.tenantId,
          subjectType: args.subject,
          subjectId: args.rolloutId,
          actor: args.actor,
          decision: args.decision,
          comment: args.comment,
        });
        if (!inserted) return;
        await appendAudit(trx, {
          tenantId: args.tenantId,
          actor: args.actor,
          action: `${args.subject}.${args.decision}`,
          entityType: 'rollout',
          entityId: args.rolloutId,
          details: { comment: args.comment },
          idempotencyKey: `${args.rolloutId}:${args.subject}:${args.decision}:${args.actor}`,
        });
      });
    },

    async raiseAlert(alert: AlertInput): Promise<number> {
      const info = Context.current().info;
      return insertAlert(knex, {
        ...alert,
        details: { ...((alert.details as object) ?? {}), workflowId: info.workflowExecution?.workflowId },
      });
    },
  };
}

/** A rollback after a breach: how long from the first failing analysis to the rollback's record. */
async function observeBreachToRollback(
  knex: ActivityDeps['knex'],
  metrics: WorkerMetrics,
  tenantId: string,
  rolloutId: string,
  at: string,
): Promise<void> {
  const breach = await firstFailingAnalysisAt(knex, tenantId, rolloutId);
  // Rolled back without a breach (onInconclusive: rollback) is not a reaction to one.
  if (breach) metrics.breachToRollback.observe(Math.max(0, (Date.parse(at) - breach.getTime()) / 1000));
}
