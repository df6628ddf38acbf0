import type { Knex } from 'knex';

/** Who approved or rejected a rollout, its promotion or an experiment. */
export type ApprovalSubject = 'rollout' | 'promotion' | 'experiment';

export interface ApprovalInput {
  tenantId: string;
  subjectType: ApprovalSubject;
  subjectId: string;
  actor: string;
  decision: 'approved' | 'rejected';
  comment: string | null;
}

export interface ApprovalRow {
  id: number;
  tenant_id: string;
  subject_type: string;
  subject_id: string;
  actor: string;
  decision: string;
  comment: string | null;
  at: Date;
}

/**
 * Records one person's decision on a subject. Keyed by subject and actor, so a retried activity (or the same
 * person deciding twice) writes once; true when this call wrote it.
 */
export async function insertApproval(db: Knex | Knex.Transaction, a: ApprovalInput): Promise<boolean> {
  const inserted = await db('approvals')
    .insert({
      tenant_id: a.tenantId,
      subject_type: a.subjectType,
      subject_id: a.subjectId,
      actor: a.actor,
      decision: a.decision,
      comment: a.comment,
    })
    .onConflict(['subject_type', 'subject_id', 'actor'])
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/** Every decision on a subject (a rollout's covers the rollout and its promotion), oldest first. */
export async function approvalsOfSubject(
  knex: Knex,
  tenantId: string,
  subjectId: string,
): Promise<ApprovalRow[]> {
  return (await knex('approvals')
    .where({ tenant_id: tenantId, subject_id: subjectId })
    .orderBy('at')) as ApprovalRow[];
}
