import type { Knex } from 'knex';
import { requestCount } from '../analysis/recorded-metrics.js';
import { readVersionMetrics } from '../analysis/rollup-reader.js';
import { getRouting } from '../routing/store.js';

const DAY = 86_400_000;

/** A model's week: what served, how well, what was checked, what changed. From Postgres only. */
export interface ModelReportData {
  model: string;
  from: string;
  to: string;
  champion: string | null;
  /** The champion's daily served MAE (from rollups) and request counts. */
  daily: Array<{ day: string; version: string; n: number; mae: number | null; errorRate: number | null }>;
  backtests: Array<{
    version: string;
    windowStart: string;
    windowEnd: string;
    n: number;
    mae: number | null;
    bias: number | null;
  }>;
  drift: Array<{ at: string; feature: string; psi: number; drifted: boolean }>;
  rollouts: Array<{
    id: string;
    challenger: string;
    state: string;
    decision: string | null;
    createdAt: string;
  }>;
  retrains: Array<{
    id: string;
    trigger: string;
    status: string;
    candidate: string | null;
    error: string | null;
    createdAt: string;
  }>;
  alerts: Array<{ type: string; severity: string; status: string; title: string; at: string }>;
}

const iso = (d: Date | string): string => new Date(d).toISOString();

export async function loadModelReport(
  knex: Knex,
  model: string,
  opts: { tenantId?: string; to?: Date; days?: number } = {},
): Promise<ModelReportData> {
  const tenantId = opts.tenantId ?? 'default';
  const to = opts.to ?? new Date();
  const days = opts.days ?? 7;
  const from = new Date(to.getTime() - days * DAY);
  const routing = await getRouting(knex, model, tenantId);
  const daily: ModelReportData['daily'] = [];
  if (routing.champion)
    for (let d = 0; d < days; d++) {
      const start = new Date(from.getTime() + d * DAY);
      const f = (
        await readVersionMetrics(knex, {
          tenantId,
          model,
          versions: [routing.champion],
          role: 'served',
          from: start,
          to: new Date(start.getTime() + DAY),
        })
      )[routing.champion];
      daily.push({
        day: start.toISOString().slice(0, 10),
        version: routing.champion,
        n: f ? requestCount(f) : 0,
        mae: f?.abs_error?.summary.n ? f.abs_error.summary.mean : null,
        errorRate: f?.error?.summary.n ? f.error.summary.mean : null,
      });
    }
  const [backtests, drift, rollouts, retrains, alerts] = await Promise.all([
    knex('backtest_results').where({ tenant_id: tenantId, model }).orderBy('window_end').limit(200),
    knex('drift_reports')
      .where({ tenant_id: tenantId, model, method: 'psi' })
      .whereBetween('at', [from, to])
      .orderBy('at'),
    knex('rollouts')
      .where({ tenant_id: tenantId, model })
      .whereBetween('created_at', [from, to])
      .orderBy('created_at'),
    knex('retraining_jobs')
      .where({ tenant_id: tenantId, model })
      .whereBetween('created_at', [from, to])
      .orderBy('created_at'),
    knex('alerts')
      .where({ tenant_id: tenantId, model })
      .whereBetween('created_at', [from, to])
      .orderBy('created_at'),
  ]);
  type Row = Record<string, unknown>;
  const day = (d: unknown): string =>
    d instanceof Date ? d.toISOString().slice(0, 10) : String(d).slice(0, 10);
  return {
    model,
    from: iso(from),
    to: iso(to),
    champion: routing.champion,
    daily,
    backtests: (backtests as Row[]).map((b) => ({
      version: b.version as string,
      windowStart: day(b.window_start),
      windowEnd: day(b.window_end),
      n: Number(b.n),
      mae: b.mae as number | null,
      bias: b.bias as number | null,
    })),
    drift: (drift as Row[]).map((r) => ({
      at: iso(r.at as Date),
      feature: r.feature as string,
      psi: Number(r.statistic),
      drifted: Boolean(r.drifted),
    })),
    rollouts: (rollouts as Row[]).map((r) => ({
      id: r.id as string,
      challenger: r.challenger as string,
      state: r.state as string,
      decision: (r.decision as string | null) ?? null,
      createdAt: iso(r.created_at as Date),
    })),
    retrains: (retrains as Row[]).map((r) => ({
      id: r.id as string,
      trigger: r.trigger as string,
      status: r.status as string,
      candidate: (r.candidate_version as string | null) ?? null,
      error: (r.error as string | null) ?? null,
      createdAt: iso(r.created_at as Date),
    })),
    alerts: (alerts as Row[]).map((a) => ({
      type: a.type as string,
      severity: a.severity as string,
      status: a.status as string,
      title: a.title as string,
      at: iso(a.created_at as Date),
    })),
  };
}
