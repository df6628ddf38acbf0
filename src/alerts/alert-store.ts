import type { Knex } from 'knex';
import { appendAudit } from '../db/audit.js';
import { UserFacingError } from '../errors.js';

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export const ALERT_STATUSES = ['unread', 'read', 'actioned', 'dismissed'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** The alert types Arena raises, with the severity each gets. */
export const ALERT_TYPES: Record<string, AlertSeverity> = {
  drift_detected: 'critical',
  rollback_executed: 'critical',
  srm_detected: 'critical',
  metric_source_failing: 'critical',
  promotion_pending: 'warning',
  approval_expiring: 'warning',
  approval_expired: 'warning',
  backtest_degradation: 'warning',
  performance_degradation: 'warning',
  experiment_complete: 'info',
  signal_refused: 'warning',
  // Lifecycle events (docs/operations.md, "Day 2"): stored and routed like alerts, so a sink can follow them.
  approval_requested: 'warning',
  rollout_promoted: 'info',
  retrain_completed: 'info',
  retrain_failed: 'warning',
  retrain_rolled_back: 'warning',
  experiment_decision: 'info',
  // Champion monitoring: the severity is the tier of the breach (warning or critical), and a resolution
  // goes out with the severity of what it resolves, so it reaches every sink the breach reached.
  champion_accuracy: 'warning',
  champion_latency: 'warning',
  champion_error_rate: 'warning',
  champion_stability: 'warning',
  champion_resolved: 'warning',
};

export interface Alert {
  id: number;
  type: string;
  severity: AlertSeverity;
  status: AlertStatus;
  model: string | null;
  rolloutId: string | null;
  title: string;
  details: Record<string, unknown>;
  actionedBy: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AlertFilter {
  tenantId?: string;
  status?: AlertStatus[];
  severity?: AlertSeverity[];
  type?: string;
  model?: string;
  since?: Date;
  limit?: number;
}

interface AlertRow {
  id: number | string;
  type: string;
  severity: AlertSeverity;
  status: AlertStatus;
  model: string | null;
  rollout_id: string | null;
  title: string;
  details: Record<string, unknown>;
  actioned_by: string | null;
  created_at: Date;
  updated_at: Date;
}

const toAlert = (r: AlertRow): Alert => ({
  id: Number(r.id),
  type: r.type,
  severity: r.severity,
  status: r.status,
  model: r.model,
  rolloutId: r.rollout_id || null,
  title: r.title,
  details: r.details,
  actionedBy: r.actioned_by,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export async function listAlerts(knex: Knex, f: AlertFilter = {}): Promise<Alert[]> {
  const q = knex<AlertRow>('alerts')
    .where('tenant_id', f.tenantId ?? 'default')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit ?? 100);
  if (f.status?.length) void q.whereIn('status', f.status);
  if (f.severity?.length) void q.whereIn('severity', f.severity);
  if (f.type) void q.where('type', f.type);
  if (f.model) void q.where('model', f.model);
  if (f.since) void q.where('created_at', '>=', f.since);
  return ((await q) as AlertRow[]).map(toAlert);
}

export async function getAlert(
  knex: Knex | Knex.Transaction,
  /** A decimal string for ids past 2^53, which a JavaScript number cannot hold (ids are bigint). */
  id: number | string,
  tenantId = 'default',
): Promise<Alert> {
  const row = (await knex('alerts').where({ tenant_id: tenantId, id }).first()) as AlertRow | undefined;
  if (!row)
    throw new UserFacingError(`No alert ${id}`, 'List alerts: arena alerts list', { code: 'not_found' });
  return toAlert(row);
}

export interface NewAlert {
  tenantId: string;
  type: string;
  severity: AlertSeverity;
  model: string;
  /** Null for alerts about a model rather than a rollout (drift, backtests). */
  rolloutId: string | null;
  title: string;
  details: Record<string, unknown>;
  /** One alert per key however often it is raised: raising it again only touches `updated_at`. */
  dedupeKey: string;
}

/** Stores an alert (once per dedupe key) and returns its id. */
export async function insertAlert(knex: Knex | Knex.Transaction, alert: NewAlert): Promise<number> {
  const [row] = (await knex('alerts')
    .insert({
      tenant_id: alert.tenantId,
      type: alert.type,
      severity: alert.severity,
      model: alert.model,
      rollout_id: alert.rolloutId,
      title: alert.title,
      details: JSON.stringify(alert.details),
      dedupe_key: alert.dedupeKey,
    })
    .onConflict(['tenant_id', 'dedupe_key'])
    .merge({ updated_at: knex.fn.now() })
    .returning('id')) as Array<{ id: number }>;
  return row!.id;
}

export async function findAlertByDedupeKey(
  knex: Knex,
  tenantId: string,
  dedupeKey: string,
): Promise<Alert | undefined> {
  const row = (await knex('alerts').where({ tenant_id: tenantId, dedupe_key: dedupeKey }).first()) as
    AlertRow | undefined;
  return row ? toAlert(row) : undefined;
}

/** Oldest first. */
export async function alertsOfRollout(knex: Knex, tenantId: string, rolloutId: string): Promise<Alert[]> {
  const rows = (await knex('alerts')
    .where({ tenant_id: tenantId, rollout_id: rolloutId })
    .orderBy('created_at')) as AlertRow[];
  return rows.map(toAlert);
}

/** Oldest first. */
export async function alertsOfModelBetween(
  knex: Knex,
  tenantId: string,
  model: string,
  from: Date,
  to: Date,
): Promise<Alert[]> {
  const rows = (await knex('alerts')
    .where({ tenant_id: tenantId, model })
    .whereBetween('created_at', [from, to])
    .orderBy('created_at')) as AlertRow[];
  return rows.map(toAlert);
}

/** Unread or read (not yet actioned or dismissed), newest first. */
export async function openAlertsOfModel(knex: Knex, tenantId: string, model: string): Promise<Alert[]> {
  const rows = (await knex('alerts')
    .where({ tenant_id: tenantId, model })
    .whereIn('status', ['unread', 'read'])
    .orderBy('created_at', 'desc')) as AlertRow[];
  return rows.map(toAlert);
}

/** Unread counts by severity, and open (unread or read) counts: the badge a person sees. */
export async function alertStats(
  knex: Knex,
  tenantId = 'default',
): Promise<{ unread: Record<AlertSeverity, number>; open: Record<AlertSeverity, number>; total: number }> {
  const rows = (await knex('alerts')
    .where({ tenant_id: tenantId })
    .groupBy('severity', 'status')
    .select('severity', 'status', knex.raw('count(*)::int as n'))) as Array<{
    severity: AlertSeverity;
    status: AlertStatus;
    n: number;
  }>;
  const zero = (): Record<AlertSeverity, number> => ({ info: 0, warning: 0, critical: 0 });
  const unread = zero();
  const open = zero();
  let total = 0;
  for (const r of rows) {
    total += r.n;
    if (r.status === 'unread') unread[r.severity] += r.n;
    if (r.status === 'unread' || r.status === 'read') open[r.severity] += r.n;
  }
  return { unread, open, total };
}

/** Legal moves: unread → read; unread|read → actioned | dismissed. Final states stay final. */
const NEXT: Record<AlertStatus, AlertStatus[]> = {
  unread: ['read', 'actioned', 'dismissed'],
  read: ['actioned', 'dismissed'],
  actioned: [],
  dismissed: [],
};

/**
 * Moves an alert to `to`, recorded in the audit ledger with the actor. Repeating the same move is a no-op
 * (a retried request); an illegal one is refused with the alert's current status.
 */
export async function moveAlert(
  knex: Knex,
  args: { tenantId?: string; id: number | string; to: AlertStatus; actor: string; reason?: string },
): Promise<Alert> {
  return knex.transaction(async (trx) => {
    const tenantId = args.tenantId ?? 'default';
    const row = (await trx('alerts').where({ tenant_id: tenantId, id: args.id }).forUpdate().first()) as
      AlertRow | undefined;
    if (!row)
      throw new UserFacingError(`No alert ${args.id}`, 'List alerts: arena alerts list', {
        code: 'not_found',
      });
    if (row.status === args.to) return toAlert(row);
    if (!NEXT[row.status].includes(args.to))
      throw new UserFacingError(
        `Alert ${args.id} (${row.type}) is ${row.status}; it cannot become ${args.to}`,
        row.status === 'actioned' || row.status === 'dismissed'
          ? 'It is already closed.'
          : 'Only unread → read, and unread/read → actioned or dismissed.',
      );
    const [updated] = (await trx('alerts')
      .where({ tenant_id: tenantId, id: args.id })
      .update({
        status: args.to,
        updated_at: trx.fn.now(),
        ...(args.to === 'actioned' || args.to === 'dismissed' ? { actioned_by: args.actor } : {}),
      })
      .returning('*')) as AlertRow[];
    await appendAudit(trx, {
      tenantId,
      actor: args.actor,
      action: `alert.${args.to}`,
      entityType: 'alert',
      entityId: String(args.id),
      details: { type: row.type, model: row.model, rolloutId: row.rollout_id, reason: args.reason ?? null },
      idempotencyKey: `alert:${tenantId}:${args.id}:${args.to}`,
    });
    return toAlert(updated!);
  });
}
