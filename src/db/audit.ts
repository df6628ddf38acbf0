import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Knex } from 'knex';

/**
 * The append-only audit ledger. Each row stores sha256(prev_hash || canonical JSON of the row), so editing
 * or deleting any row breaks every hash after it and `verifyAuditChain` names the first broken row.
 * Canonical JSON is RFC 8785 (the `canonicalize` package): key order and number formatting are fixed.
 */

export const GENESIS_HASH = '0'.repeat(64);
// Any constant works; it only serialises appends so each row sees the true previous hash.
const AUDIT_LOCK_KEY = 0x41524e41; // "ARNA"

export interface AuditEntry {
  tenantId?: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  details?: Record<string, unknown>;
  /** Retried activities pass the same key; the ledger keeps the first write only. */
  idempotencyKey: string;
  at?: Date;
}

export interface AuditRow {
  id: number;
  tenant_id: string;
  at: Date;
  actor: string;
  action: string;
  entity_type: string;
  entity_id: string;
  details: Record<string, unknown>;
  idempotency_key: string;
  prev_hash: string;
  hash: string;
}

type HashedFields = Pick<
  AuditRow,
  'tenant_id' | 'at' | 'actor' | 'action' | 'entity_type' | 'entity_id' | 'details' | 'idempotency_key'
>;

export function auditHash(prevHash: string, row: HashedFields): string {
  const canonical = canonicalize({
    tenant_id: row.tenant_id,
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    entity_type: row.entity_type,
    entity_id: row.entity_id,
    details: row.details,
    idempotency_key: row.idempotency_key,
  });
  return createHash('sha256')
    .update(prevHash + (canonical ?? ''))
    .digest('hex');
}

/**
 * Appends one entry (or returns the existing one with the same idempotency key). Pass a transaction to make
 * the audit row commit or roll back together with the change it records.
 */
export async function appendAudit(db: Knex | Knex.Transaction, entry: AuditEntry): Promise<AuditRow> {
  const run = async (trx: Knex.Transaction): Promise<AuditRow> => {
    await trx.raw('select pg_advisory_xact_lock(?)', [AUDIT_LOCK_KEY]);
    const existing = await trx<AuditRow>('audit_log')
      .where({ idempotency_key: entry.idempotencyKey })
      .first();
    if (existing) return existing;
    const last = await trx<AuditRow>('audit_log').orderBy('id', 'desc').first('hash');
    const prevHash = last?.hash ?? GENESIS_HASH;
    // Millisecond precision: what a JS Date can carry back out of timestamptz unchanged.
    const at = new Date(Math.floor((entry.at ?? new Date()).getTime()));
    const fields: HashedFields = {
      tenant_id: entry.tenantId ?? 'default',
      at,
      actor: entry.actor,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      details: entry.details ?? {},
      idempotency_key: entry.idempotencyKey,
    };
    const [row] = await trx<AuditRow>('audit_log')
      .insert({
        ...fields,
        details: JSON.stringify(fields.details) as never,
        prev_hash: prevHash,
        hash: auditHash(prevHash, fields),
      })
      .returning('*');
    if (!row) throw new Error('audit insert returned no row');
    return row;
  };
  return db.isTransaction ? run(db as Knex.Transaction) : (db as Knex).transaction(run);
}

/** Whether an entry with this idempotency key is in the ledger: how a retried change sees it already ran. */
export async function isAudited(db: Knex | Knex.Transaction, idempotencyKey: string): Promise<boolean> {
  return Boolean(await db('audit_log').where({ idempotency_key: idempotencyKey }).first('id'));
}

/** The stored hash of one row, or undefined when there is no such row. */
export async function auditHashOf(knex: Knex, id: number): Promise<string | undefined> {
  const row = (await knex('audit_log').where({ id }).first('hash')) as { hash: string } | undefined;
  return row?.hash;
}

export interface AuditRowFilter {
  tenantId: string;
  since?: Date;
  entityType?: string;
  actor?: string;
  limit: number;
  /**
   * Rows about a model: its own entity, its versions (`model@version`), rows whose details name it, and
   * rows about any of the entity ids the subquery yields (its rollouts).
   */
  model?: { name: string; relatedEntityIds: Knex.QueryBuilder };
}

/** A tenant's ledger rows matching the filter, oldest first. */
export async function auditRows(knex: Knex, f: AuditRowFilter): Promise<AuditRow[]> {
  const query = knex<AuditRow>('audit_log')
    .where('tenant_id', f.tenantId)
    .orderBy('id', 'asc')
    .limit(f.limit);
  if (f.since) void query.where('at', '>=', f.since);
  if (f.entityType) void query.where('entity_type', f.entityType);
  if (f.actor) void query.where('actor', f.actor);
  if (f.model) {
    const { name, relatedEntityIds } = f.model;
    void query.where((w) => {
      void w
        .where('entity_id', name)
        .orWhere('entity_id', 'like', `${name.replace(/[\\%_]/g, '\\$&')}@%`)
        .orWhereRaw(`details->>'model' = ?`, [name])
        .orWhereIn('entity_id', relatedEntityIds);
    });
  }
  return (await query) as AuditRow[];
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  /** The first row whose stored hash or back-link does not match, with what was expected. */
  firstBad?: { id: number; reason: string };
}

/** Walks the chain in id order in pages, so memory stays flat on a long ledger. */
export async function verifyAuditChain(knex: Knex, pageSize = 5_000): Promise<AuditVerification> {
  let prevHash = GENESIS_HASH;
  let lastId = 0;
  let checked = 0;
  for (;;) {
    const rows = await knex<AuditRow>('audit_log').where('id', '>', lastId).orderBy('id').limit(pageSize);
    if (rows.length === 0) return { ok: true, checked };
    for (const row of rows) {
      if (row.prev_hash !== prevHash) {
        return {
          ok: false,
          checked,
          firstBad: {
            id: row.id,
            reason: `prev_hash ${row.prev_hash} does not link to the previous row's hash ${prevHash} (a row before it was deleted or edited)`,
          },
        };
      }
      const expected = auditHash(prevHash, row);
      if (row.hash !== expected) {
        return {
          ok: false,
          checked,
          firstBad: {
            id: row.id,
            reason: `stored hash ${row.hash} ≠ recomputed ${expected} (the row was edited)`,
          },
        };
      }
      prevHash = row.hash;
      lastId = row.id;
      checked += 1;
    }
  }
}
