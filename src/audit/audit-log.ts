import type { Knex } from 'knex';
import { auditRows } from '../db/audit.js';
import { rolloutIdsOfModel } from '../rollout/store.js';

export interface AuditQuery {
  tenantId?: string;
  /** Rows about this model: its own entity, its versions and routing, and its rollouts. */
  model?: string;
  since?: Date;
  entityType?: string;
  actor?: string;
  limit?: number;
}

export interface AuditLogEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  entity: string;
  /** One line on the evidence behind the action, from what the row recorded. */
  evidence: string;
  details: Record<string, unknown>;
}

const short = (text: string, max = 240): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The line a person reads in `arena audit log`: the reason, the analysis or the numbers that were recorded. */
export function evidenceOf(details: Record<string, unknown>): string {
  const d = details as {
    reason?: unknown;
    comment?: unknown;
    decision?: unknown;
    analysis?: { summary?: unknown };
    summary?: unknown;
    from?: unknown;
    to?: unknown;
    champion?: unknown;
    challenger?: unknown;
  };
  const parts: string[] = [];
  if (typeof d.from === 'string' || typeof d.to === 'string')
    parts.push(`${String(d.from ?? '∅')} → ${String(d.to ?? '∅')}`);
  if (typeof d.reason === 'string' && d.reason) parts.push(d.reason);
  if (typeof d.comment === 'string' && d.comment) parts.push(`"${d.comment}"`);
  if (typeof d.decision === 'string' && d.decision) parts.push(d.decision);
  const summary = d.analysis?.summary ?? d.summary;
  if (typeof summary === 'string' && summary) parts.push(summary);
  if (!parts.length && typeof d.challenger === 'string')
    parts.push(`${String(d.champion ?? '—')} → ${d.challenger}`);
  return short(parts.join('; '));
}

/**
 * "Who approved what, on which evidence": the ledger filtered by model, time, entity and actor, oldest first.
 * Rows about a model are found by entity (the model, its versions `model@version`, its routing) and by the
 * model named in the details (rollouts, experiments, retraining jobs).
 */
export async function readAuditLog(knex: Knex, q: AuditQuery = {}): Promise<AuditLogEntry[]> {
  const tenantId = q.tenantId ?? 'default';
  const rows = await auditRows(knex, {
    tenantId,
    limit: q.limit ?? 1000,
    ...(q.since ? { since: q.since } : {}),
    ...(q.entityType ? { entityType: q.entityType } : {}),
    ...(q.actor ? { actor: q.actor } : {}),
    ...(q.model
      ? { model: { name: q.model, relatedEntityIds: rolloutIdsOfModel(knex, tenantId, q.model) } }
      : {}),
  });
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    action: r.action,
    entity: `${r.entity_type}:${r.entity_id}`,
    evidence: evidenceOf(r.details ?? {}),
    details: r.details ?? {},
  }));
}
