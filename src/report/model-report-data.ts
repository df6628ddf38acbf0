import type { Knex } from 'knex';
import { requestCount } from '../analysis/recorded-metrics.js';
import { readVersionMetrics } from '../analysis/rollup-reader.js';
import { alertsOfModelBetween } from '../alerts/alert-store.js';
import { reportAlert, type ReportAlert } from './report-alert.js';
import { backtestResultsOfModel } from '../backtest/result-store.js';
import { psiReportsOfModelBetween } from '../monitoring/drift-report-store.js';
import { retrainJobsOfModelBetween } from '../retrain/job-store.js';
import { rolloutsOfModelBetween } from '../rollout/store.js';
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
  alerts: ReportAlert[];
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
          histograms: false,
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
    backtestResultsOfModel(knex, tenantId, model),
    psiReportsOfModelBetween(knex, tenantId, model, from, to),
    rolloutsOfModelBetween(knex, tenantId, model, from, to),
    retrainJobsOfModelBetween(knex, tenantId, model, from, to),
    alertsOfModelBetween(knex, tenantId, model, from, to),
  ]);
  const day = (d: unknown): string =>
    d instanceof Date ? d.toISOString().slice(0, 10) : String(d).slice(0, 10);
  return {
    model,
    from: iso(from),
    to: iso(to),
    champion: routing.champion,
    daily,
    backtests: backtests.map((b) => ({
      version: b.version,
      windowStart: day(b.window_start),
      windowEnd: day(b.window_end),
      n: Number(b.n),
      mae: b.mae,
      bias: b.bias,
    })),
    drift: drift.map((r) => ({
      at: iso(r.at),
      feature: r.feature,
      psi: Number(r.statistic),
      drifted: Boolean(r.drifted),
    })),
    rollouts: rollouts.map((r) => ({
      id: r.id,
      challenger: r.challenger,
      state: r.state,
      decision: r.decision ?? null,
      createdAt: iso(r.created_at),
    })),
    retrains: retrains.map((r) => ({
      id: r.id,
      trigger: r.trigger,
      status: r.status,
      candidate: r.candidate_version ?? null,
      error: r.error ?? null,
      createdAt: iso(r.created_at),
    })),
    alerts: alerts.map(reportAlert),
  };
}
