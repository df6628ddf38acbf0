import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, auditHash, GENESIS_HASH, verifyAuditChain } from '../../../src/db/audit.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('audit ledger (hash chain) on real Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('audit');
  });
  afterAll(async () => db?.drop());

  it('chains rows, ignores a repeated idempotency key, and verifies', async () => {
    const first = await appendAudit(db.knex, {
      actor: 'alice',
      action: 'rollout.approve',
      entityType: 'rollout',
      entityId: 'r1',
      details: { comment: 'looks good', n: 1.5, nested: { b: 2, a: 1 } },
      idempotencyKey: 'r1:approve:alice',
      at: new Date('2026-01-02T03:04:05.678Z'),
    });
    expect(first.prev_hash).toBe(GENESIS_HASH);
    expect(first.hash).toBe(auditHash(GENESIS_HASH, first));

    const retry = await appendAudit(db.knex, {
      actor: 'alice',
      action: 'rollout.approve',
      entityType: 'rollout',
      entityId: 'r1',
      idempotencyKey: 'r1:approve:alice',
    });
    expect(retry.id).toBe(first.id);

    // Concurrent appends must still form one chain.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        appendAudit(db.knex, {
          actor: 'bot',
          action: 'tick',
          entityType: 'x',
          entityId: String(i),
          idempotencyKey: `tick:${i}`,
        }),
      ),
    );
    expect(await verifyAuditChain(db.knex, 7)).toEqual({ ok: true, checked: 21 });
  });

  it('names the first tampered row when a row is edited by SQL', async () => {
    const rows = await db.knex('audit_log').orderBy('id').select('id');
    const victim = rows[5]!.id as number;
    await db.knex.raw(`update audit_log set actor = 'mallory' where id = ?`, [victim]);
    const result = await verifyAuditChain(db.knex);
    expect(result.ok).toBe(false);
    expect(result.firstBad?.id).toBe(victim);
    expect(result.firstBad?.reason).toMatch(/edited/);
  });

  it('notices a deleted row through the broken back-link', async () => {
    const rows = await db.knex('audit_log').orderBy('id').select('id');
    // Repair the edited row's chain first by deleting everything from it on would hide it; instead delete an earlier one.
    const victim = rows[2]!.id as number;
    await db.knex('audit_log').where({ id: victim }).delete();
    const result = await verifyAuditChain(db.knex);
    expect(result.ok).toBe(false);
    expect(result.firstBad?.id).toBe(rows[3]!.id);
    expect(result.firstBad?.reason).toMatch(/does not link/);
  });
});
