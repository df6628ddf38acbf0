import { Context } from '@temporalio/activity';
import { appendAudit } from '../src/db/audit.js';
import type { ActivityDeps } from './deps.js';

export interface StackCheckInput {
  requestedBy: string;
  note?: string;
}

export interface StackCheckRecord {
  auditId: number;
  hash: string;
  workflowId: string;
}

/**
 * Proves the wiring end to end (workflow → activity → Postgres). Idempotent: a retry of the same workflow's
 * activity finds the audit row by its key instead of adding another.
 */
export function stackCheckActivities({ knex, clock }: ActivityDeps) {
  return {
    async recordStackCheck(input: StackCheckInput): Promise<StackCheckRecord> {
      const info = Context.current().info;
      const workflowId = info.workflowExecution?.workflowId ?? info.activityId;
      const row = await appendAudit(knex, {
        actor: input.requestedBy,
        action: 'stack.check',
        entityType: 'workflow',
        entityId: workflowId,
        details: { note: input.note ?? null },
        idempotencyKey: `stack-check:${workflowId}`,
        at: clock(),
      });
      return { auditId: row.id, hash: row.hash, workflowId };
    },
  };
}
