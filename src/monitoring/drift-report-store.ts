import type { Knex } from 'knex';

/** One statistic of one feature in one drift check. */
export interface DriftReportInput {
  feature: string;
  method: 'psi' | 'ks' | 'chi_square';
  statistic: number;
  p_value: number | null;
  threshold: number;
  drifted: boolean;
  /** What was compared: the reference, the recent window and how many recent values it had. */
  windows: unknown;
}

export interface DriftReportRow {
  id: number;
  tenant_id: string;
  model: string;
  version: string | null;
  feature: string;
  method: string;
  statistic: number;
  p_value: number | null;
  threshold: number | null;
  drifted: boolean;
  windows: Record<string, unknown>;
  check_id: string | null;
  at: Date;
}

/**
 * Stores a check's statistics. Keyed by check id, feature and method, so a retried check writes them once
 * (the first write stays).
 */
export async function insertDriftReports(
  knex: Knex,
  check: {
    tenantId: string;
    model: string;
    version: string;
    checkId: string;
    rows: DriftReportInput[];
  },
): Promise<void> {
  if (!check.rows.length) return;
  await knex('drift_reports')
    .insert(
      check.rows.map((r) => ({
        ...r,
        tenant_id: check.tenantId,
        model: check.model,
        version: check.version,
        check_id: check.checkId,
        windows: JSON.stringify(r.windows),
      })),
    )
    .onConflict(['tenant_id', 'check_id', 'feature', 'method'])
    .ignore();
}

/** A model's PSI statistics measured between `from` and `to`, oldest first. */
export async function psiReportsOfModelBetween(
  knex: Knex,
  tenantId: string,
  model: string,
  from: Date,
  to: Date,
): Promise<DriftReportRow[]> {
  return (await knex('drift_reports')
    .where({ tenant_id: tenantId, model, method: 'psi' })
    .whereBetween('at', [from, to])
    .orderBy('at')) as DriftReportRow[];
}

/** A model's drift statistics, newest first: every feature and method of its checks since `since`. */
export async function driftReportsOfModel(
  knex: Knex,
  tenantId: string,
  model: string,
  opts: { since?: Date; limit: number },
): Promise<DriftReportRow[]> {
  const q = knex('drift_reports')
    .where({ tenant_id: tenantId, model })
    .orderBy('at', 'desc')
    .orderBy('id', 'desc');
  if (opts.since) void q.where('at', '>=', opts.since);
  return (await q.limit(opts.limit)) as DriftReportRow[];
}
