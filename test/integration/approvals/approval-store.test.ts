import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalsOfSubject, insertApproval } from '../../../src/approvals/approval-store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('approval store (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('approval_store');
  });
  afterAll(async () => db?.drop());

  it('writes one decision per subject and actor: the first one stays', async () => {
    const base = { tenantId: 'default', subjectId: 'r1', comment: null };
    expect(
      await insertApproval(db.knex, { ...base, subjectType: 'rollout', actor: 'ana', decision: 'approved' }),
    ).toBe(true);
    expect(
      await insertApproval(db.knex, { ...base, subjectType: 'rollout', actor: 'ana', decision: 'rejected' }),
    ).toBe(false);
    expect(
      await db.knex.transaction((trx) =>
        insertApproval(trx, {
          ...base,
          subjectType: 'promotion',
          actor: 'ana',
          decision: 'approved',
          comment: 'ship it',
        }),
      ),
    ).toBe(true);
    await insertApproval(db.knex, { ...base, subjectType: 'rollout', actor: 'bo', decision: 'approved' });
    await insertApproval(db.knex, {
      ...base,
      tenantId: 'acme',
      subjectType: 'rollout',
      actor: 'cy',
      decision: 'approved',
    });

    const rows = await approvalsOfSubject(db.knex, 'default', 'r1');
    expect(rows.map((r) => [r.subject_type, r.actor, r.decision, r.comment])).toEqual([
      ['rollout', 'ana', 'approved', null],
      ['promotion', 'ana', 'approved', 'ship it'],
      ['rollout', 'bo', 'approved', null],
    ]);
    expect(rows[0]!.at).toBeInstanceOf(Date);
    expect(await approvalsOfSubject(db.knex, 'default', 'r2')).toEqual([]);
  });
});
