import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  alertsOfModelBetween,
  alertsOfRollout,
  alertStats,
  findAlertByDedupeKey,
  insertAlert,
  listAlerts,
  moveAlert,
  openAlertsOfModel,
} from '../../../src/alerts/alert-store.js';
import { verifyAuditChain } from '../../../src/db/audit.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('alert store on real Postgres', () => {
  let db: TestDatabase;
  const ids: Record<string, number> = {};
  beforeAll(async () => {
    db = await createTestDatabase('alerts');
    const rows = [
      { key: 'drift', type: 'drift_detected', severity: 'critical', model: 'a' },
      { key: 'pending', type: 'promotion_pending', severity: 'warning', model: 'a' },
      { key: 'done', type: 'experiment_complete', severity: 'info', model: 'b' },
      { key: 'other', type: 'drift_detected', severity: 'critical', model: 'a', tenant_id: 'acme' },
    ];
    for (const r of rows) {
      const [row] = (await db
        .knex('alerts')
        .insert({
          type: r.type,
          severity: r.severity,
          model: r.model,
          title: r.key,
          dedupe_key: r.key,
          tenant_id: r.tenant_id ?? 'default',
        })
        .returning('id')) as Array<{ id: number }>;
      ids[r.key] = Number(row!.id);
    }
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('filters by status, severity, type and model, within the tenant', async () => {
    expect((await listAlerts(db.knex)).map((a) => a.title).sort()).toEqual(['done', 'drift', 'pending']);
    expect((await listAlerts(db.knex, { severity: ['critical'] })).map((a) => a.title)).toEqual(['drift']);
    expect((await listAlerts(db.knex, { model: 'b' })).map((a) => a.title)).toEqual(['done']);
    expect((await listAlerts(db.knex, { type: 'promotion_pending' })).map((a) => a.title)).toEqual([
      'pending',
    ]);
    expect((await listAlerts(db.knex, { tenantId: 'acme' })).map((a) => a.title)).toEqual(['other']);
    expect(await alertStats(db.knex)).toEqual({
      unread: { info: 1, warning: 1, critical: 1 },
      open: { info: 1, warning: 1, critical: 1 },
      total: 3,
    });
  });

  it('moves unread → read → dismissed with the actor, refuses illegal moves, and audits each once', async () => {
    const read = await moveAlert(db.knex, { id: ids.drift!, to: 'read', actor: 'olga' });
    expect(read.status).toBe('read');
    expect((await moveAlert(db.knex, { id: ids.drift!, to: 'read', actor: 'olga' })).status).toBe('read'); // repeat: no-op
    const dismissed = await moveAlert(db.knex, {
      id: ids.drift!,
      to: 'dismissed',
      actor: 'olga',
      reason: 'known heat wave',
    });
    expect(dismissed).toMatchObject({ status: 'dismissed', actionedBy: 'olga' });
    await expect(moveAlert(db.knex, { id: ids.drift!, to: 'read', actor: 'olga' })).rejects.toThrow(
      /Alert \d+ \(drift_detected\) is dismissed; it cannot become read/,
    );
    await expect(moveAlert(db.knex, { id: 999_999, to: 'read', actor: 'olga' })).rejects.toThrow(
      /No alert 999999/,
    );
    await expect(moveAlert(db.knex, { id: ids.other!, to: 'read', actor: 'olga' })).rejects.toThrow(
      /No alert/,
    ); // another tenant's
    const audit = await db
      .knex('audit_log')
      .where({ entity_type: 'alert', entity_id: String(ids.drift) })
      .orderBy('id')
      .select('action', 'actor');
    expect(audit).toEqual([
      { action: 'alert.read', actor: 'olga' },
      { action: 'alert.dismissed', actor: 'olga' },
    ]);
    expect(await verifyAuditChain(db.knex)).toMatchObject({ ok: true });
    expect((await alertStats(db.knex)).unread.critical).toBe(0);
  });

  it('raises an alert once per dedupe key (raising it again only touches it) and finds it by key, rollout or model', async () => {
    const alert = {
      tenantId: 'default',
      type: 'promotion_pending',
      severity: 'warning' as const,
      model: 'c',
      rolloutId: 'ro-c',
      title: 'Promote c?',
      details: { workflowId: 'wf-c' },
      dedupeKey: 'ro-c:pending',
    };
    const id = Number(await insertAlert(db.knex, alert));
    const first = await findAlertByDedupeKey(db.knex, 'default', 'ro-c:pending');
    expect(first).toMatchObject({
      id,
      type: 'promotion_pending',
      rolloutId: 'ro-c',
      details: { workflowId: 'wf-c' },
    });
    expect(Number(await insertAlert(db.knex, { ...alert, title: 'changed' }))).toBe(id);
    const again = await findAlertByDedupeKey(db.knex, 'default', 'ro-c:pending');
    expect(again?.title).toBe('Promote c?');
    expect(Date.parse(again!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(first!.updatedAt));
    expect(await findAlertByDedupeKey(db.knex, 'acme', 'ro-c:pending')).toBeUndefined();
    expect((await alertsOfRollout(db.knex, 'default', 'ro-c')).map((a) => a.id)).toEqual([id]);
    expect((await openAlertsOfModel(db.knex, 'default', 'c')).map((a) => a.id)).toEqual([id]);
    expect(await openAlertsOfModel(db.knex, 'acme', 'c')).toEqual([]);
    const hour = 3_600_000;
    expect(
      (
        await alertsOfModelBetween(
          db.knex,
          'default',
          'c',
          new Date(Date.now() - hour),
          new Date(Date.now() + hour),
        )
      ).map((a) => a.id),
    ).toEqual([id]);
    expect(
      await alertsOfModelBetween(
        db.knex,
        'default',
        'c',
        new Date(Date.now() - 2 * hour),
        new Date(Date.now() - hour),
      ),
    ).toEqual([]);
    await moveAlert(db.knex, { id, to: 'dismissed', actor: 'ana' });
    expect(await openAlertsOfModel(db.knex, 'default', 'c')).toEqual([]);
  });
});
