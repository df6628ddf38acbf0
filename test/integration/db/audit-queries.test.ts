import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, auditHashOf, auditRows, isAudited } from '../../../src/db/audit.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('audit ledger reads (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('audit_queries');
    const entries = [
      { actor: 'ana', entityType: 'model', entityId: 'demand', key: 'k1' },
      { actor: 'bo', entityType: 'model_version', entityId: 'demand@1.0.0', key: 'k2' },
      { actor: 'ana', entityType: 'rollout', entityId: 'r-7', key: 'k3' },
      { actor: 'ana', entityType: 'retrain', entityId: 'j1', key: 'k4', details: { model: 'demand' } },
      { actor: 'ana', entityType: 'model_version', entityId: 'demand_x@1.0.0', key: 'k5' },
      { actor: 'ana', entityType: 'model', entityId: 'demand', key: 'k6', tenantId: 'acme' },
    ];
    for (const e of entries)
      await appendAudit(db.knex, {
        tenantId: e.tenantId ?? 'default',
        actor: e.actor,
        action: 'test',
        entityType: e.entityType,
        entityId: e.entityId,
        details: e.details ?? {},
        idempotencyKey: e.key,
        at: new Date(Date.UTC(2026, 0, 1, 0, Number(e.key.slice(1)))),
      });
  });
  afterAll(async () => db?.drop());

  it('knows whether a key was written, also inside a transaction', async () => {
    expect(await isAudited(db.knex, 'k1')).toBe(true);
    expect(await isAudited(db.knex, 'nope')).toBe(false);
    expect(await db.knex.transaction((trx) => isAudited(trx, 'k2'))).toBe(true);
  });

  it("reads one row's hash", async () => {
    const row = await appendAudit(db.knex, {
      actor: 'ana',
      action: 'test',
      entityType: 'x',
      entityId: 'y',
      idempotencyKey: 'hash-me',
    });
    expect(await auditHashOf(db.knex, row.id)).toBe(row.hash);
    expect(await auditHashOf(db.knex, 999_999)).toBeUndefined();
  });

  it("filters a tenant's rows by model (entity, versions, details, related ids), actor, type and time", async () => {
    const keys = async (f: Partial<Parameters<typeof auditRows>[1]>) =>
      (await auditRows(db.knex, { tenantId: 'default', limit: 100, ...f })).map((r) => r.idempotency_key);
    const related = () => db.knex.select(db.knex.raw(`'r-7' as id`));
    expect(await keys({ model: { name: 'demand', relatedEntityIds: related() } })).toEqual([
      'k1',
      'k2',
      'k3',
      'k4',
    ]);
    // "_" in a name is matched literally, not as a LIKE wildcard.
    expect(
      await keys({ model: { name: 'demand_x', relatedEntityIds: db.knex.select(db.knex.raw('null')) } }),
    ).toEqual(['k5']);
    expect(await keys({ actor: 'bo' })).toEqual(['k2']);
    expect(await keys({ entityType: 'model' })).toEqual(['k1']);
    expect(await keys({ since: new Date(Date.UTC(2026, 0, 1, 0, 4)), limit: 2 })).toEqual(['k4', 'k5']);
    expect((await auditRows(db.knex, { tenantId: 'acme', limit: 10 })).map((r) => r.idempotency_key)).toEqual(
      ['k6'],
    );
  });
});
