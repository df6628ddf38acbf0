import { listRetrainJobs } from '../retrain/job-store.js';
import { latestEvents } from '../monitoring/champion-monitor-store.js';
import type { Knex } from 'knex';
import { openAlertsOfModel } from '../alerts/alert-store.js';
import { readVersionMetrics } from '../analysis/rollup-reader.js';
import { latestBacktestResult } from '../backtest/result-store.js';
import { getVersion } from '../registry/registry.js';
import { getRouting } from '../routing/store.js';
import { latestAnalysis, latestRolloutOfModel } from '../rollout/store.js';
import type { AnalysisVerdict } from '../rollout/types.js';
import { percentOf } from '../routing/weight.js';

const DAY = 86_400_000;

/** How one version's primary metric moved: the last 7 days against the 7 before them, and 30 days. */
export interface MetricTrend {
  metric: string;
  direction: 'lower' | 'higher';
  last7d: { n: number; mean: number } | null;
  previous7d: { n: number; mean: number } | null;
  last30d: { n: number; mean: number } | null;
  /** Relative change of last7d against previous7d (positive = the number went up). */
  change: number | null;
  trend: 'improving' | 'worsening' | 'stable' | 'unknown';
}

export interface ModelHealth {
  model: string;
  generatedAt: string;
  champion: {
    version: string;
    status: string;
    /** When it became champion (ISO); null for a champion set before Arena kept it. */
    promotedAt: string | null;
    baseline: number | null;
    primary: MetricTrend;
  } | null;
  challenger: {
    version: string;
    status: string;
    mode: string;
    weightPct: number;
    primary: MetricTrend;
  } | null;
  rollout: {
    rolloutId: string;
    state: string;
    lastAnalysis: Pick<AnalysisVerdict, 'decision' | 'summary' | 'samples' | 'primary' | 'at'> | null;
    /** Whether the challenger would be promoted on today's evidence, and the gate's confidence. */
    eligible: boolean;
    confidence: number | null;
    eligibility: string;
  } | null;
  backtest: {
    version: string;
    windowStart: string;
    windowEnd: string;
    n: number;
    mae: number | null;
    mape: number | null;
    bias: number | null;
  } | null;
  /** The latest retraining job: its outcome, and when its candidate was deployed (became champion). */
  retrain: {
    jobId: string;
    status: string;
    trigger: string;
    candidateVersion: string | null;
    finishedAt: string | null;
    deployedAt: string | null;
  } | null;
  /**
   * The champion monitor's view of the champion: its baseline, and each check whose latest event is about
   * it (the tier it stands at, since when). Null when no monitor has run for this champion.
   */
  monitor: {
    version: string;
    baseline: { metric: string; value: number; source: string } | null;
    checks: Array<{ check: string; tier: 'ok' | 'warning' | 'critical'; since: string; reason: string }>;
  } | null;
  alerts: {
    open: number;
    bySeverity: Record<'critical' | 'warning' | 'info', number>;
    latest: Array<{ id: number; type: string; severity: string; title: string; createdAt: string }>;
  };
  /** ok: nothing to do; attention: look today; critical: act now. */
  verdict: 'ok' | 'attention' | 'critical';
  reasons: string[];
}

/** A change smaller than this is noise for the one-screen verdict (the rollout gate does the real tests). */
const STABLE_WITHIN = 0.05;

async function trend(
  knex: Knex,
  tenantId: string,
  model: string,
  version: string,
  metric: string,
  direction: 'lower' | 'higher',
  now: Date,
): Promise<MetricTrend> {
  const read = async (fromDays: number, toDays: number) => {
    const figures = await readVersionMetrics(knex, {
      tenantId,
      model,
      versions: [version],
      role: 'served',
      from: new Date(now.getTime() - fromDays * DAY),
      to: new Date(now.getTime() - toDays * DAY),
      histograms: false,
    });
    const s = figures[version]?.[metric]?.summary;
    return s && s.n > 0 ? { n: s.n, mean: s.mean } : null;
  };
  const [last7d, previous7d, last30d] = await Promise.all([read(7, 0), read(14, 7), read(30, 0)]);
  const change =
    last7d && previous7d && previous7d.mean !== 0
      ? (last7d.mean - previous7d.mean) / Math.abs(previous7d.mean)
      : null;
  const better = change === null ? null : direction === 'lower' ? -change : change;
  return {
    metric,
    direction,
    last7d,
    previous7d,
    last30d,
    change,
    trend:
      better === null
        ? 'unknown'
        : Math.abs(better) < STABLE_WITHIN
          ? 'stable'
          : better > 0
            ? 'improving'
            : 'worsening',
  };
}

/**
 * One screen for the on-call person: who serves, how the primary metric moves, whether the challenger is
 * on course for promotion, the latest backtest and the open alerts — read from rollups and small tables,
 * so it is cheap whatever the traffic.
 */
export async function modelHealth(
  knex: Knex,
  model: string,
  opts: { tenantId?: string; now?: Date } = {},
): Promise<ModelHealth> {
  const tenantId = opts.tenantId ?? 'default';
  const now = opts.now ?? new Date();
  const routing = await getRouting(knex, model, tenantId);
  const latestRollout = await latestRolloutOfModel(knex, tenantId, model);
  const policy = latestRollout?.policy as
    { primaryMetric?: Array<{ name: string; direction: 'lower' | 'higher' }> } | undefined;
  const primary = policy?.primaryMetric?.[0] ?? {
    name: 'abs_error',
    direction: 'lower' as const,
  };
  const reasons: string[] = [];

  let champion: ModelHealth['champion'] = null;
  if (routing.champion) {
    const v = await getVersion(knex, model, routing.champion, tenantId);
    const holdout = (v.metrics as { holdout?: { mae?: number } }).holdout;
    champion = {
      version: v.version,
      status: v.status,
      promotedAt: v.promotedAt ? v.promotedAt.toISOString() : null,
      baseline: primary.name === 'abs_error' && typeof holdout?.mae === 'number' ? holdout.mae : null,
      primary: await trend(knex, tenantId, model, v.version, primary.name, primary.direction, now),
    };
    if (champion.primary.trend === 'worsening')
      reasons.push(
        `champion ${v.version}: ${primary.name} ${(Math.abs(champion.primary.change ?? 0) * 100).toFixed(1)}% worse than the week before`,
      );
    if (champion.baseline !== null && champion.primary.last7d) {
      const vsBaseline = (champion.primary.last7d.mean - champion.baseline) / champion.baseline;
      if (vsBaseline > 0.15)
        reasons.push(
          `champion ${v.version}: MAE ${champion.primary.last7d.mean.toFixed(3)} is ${(vsBaseline * 100).toFixed(0)}% above its holdout baseline ${champion.baseline.toFixed(3)}`,
        );
    }
  } else reasons.push('no champion: nothing is being served');

  let challenger: ModelHealth['challenger'] = null;
  if (routing.challenger) {
    const v = await getVersion(knex, model, routing.challenger, tenantId);
    challenger = {
      version: v.version,
      status: v.status,
      mode: routing.mode,
      weightPct: percentOf(routing.weightBp),
      primary: await trend(knex, tenantId, model, v.version, primary.name, primary.direction, now),
    };
  }

  let rollout: ModelHealth['rollout'] = null;
  if (latestRollout && latestRollout.ended_at === null) {
    const a = await latestAnalysis(knex, tenantId, latestRollout.id);
    const eligible = a?.decision === 'pass';
    rollout = {
      rolloutId: latestRollout.id,
      state: latestRollout.state,
      lastAnalysis: a
        ? { decision: a.decision, summary: a.summary, samples: a.samples, primary: a.primary, at: a.at }
        : null,
      eligible,
      confidence: a?.primary ? 1 - a.primary.pValue : null,
      eligibility: !a
        ? 'no analysis yet'
        : eligible
          ? `eligible: ${a.summary}`
          : `not yet: ${a.decision}; ${a.summary}`,
    };
    if (['rolling_back', 'awaiting_approval'].includes(latestRollout.state) || a?.decision === 'invalid')
      reasons.push(
        `rollout ${latestRollout.id} is ${a?.decision === 'invalid' ? 'paused on invalid data' : latestRollout.state}`,
      );
  }

  const bt = await latestBacktestResult(knex, tenantId, model);
  const day = (d: Date | string): string =>
    d instanceof Date ? d.toISOString().slice(0, 10) : String(d).slice(0, 10);
  const backtest = bt
    ? {
        version: bt.version,
        windowStart: day(bt.window_start),
        windowEnd: day(bt.window_end),
        n: bt.n,
        mae: bt.mae,
        mape: bt.mape,
        bias: bt.bias,
      }
    : null;

  const [job] = await listRetrainJobs(knex, { model, limit: 1, tenantId });
  const iso = (d: Date | null): string | null => (d ? new Date(d).toISOString() : null);
  const retrain = job
    ? {
        jobId: job.id,
        status: job.status,
        trigger: job.trigger,
        candidateVersion: job.candidate_version,
        finishedAt: iso(job.finished_at),
        deployedAt: iso(job.deployed_at),
      }
    : null;

  const monitor = routing.champion ? await monitorView(knex, tenantId, model, routing.champion) : null;

  const openAlerts = await openAlertsOfModel(knex, tenantId, model);
  const bySeverity = { critical: 0, warning: 0, info: 0 };
  for (const a of openAlerts) bySeverity[a.severity]++;
  if (bySeverity.critical) reasons.push(`${bySeverity.critical} critical alert(s) open`);
  if (bySeverity.warning) reasons.push(`${bySeverity.warning} warning(s) open`);

  const verdict: ModelHealth['verdict'] =
    !routing.champion || bySeverity.critical > 0 || latestRollout?.state === 'rolling_back'
      ? 'critical'
      : reasons.length
        ? 'attention'
        : 'ok';
  return {
    model,
    generatedAt: now.toISOString(),
    champion,
    challenger,
    rollout,
    backtest,
    retrain,
    monitor,
    alerts: {
      open: openAlerts.length,
      bySeverity,
      latest: openAlerts.slice(0, 5).map((a) => ({
        id: a.id,
        type: a.type,
        severity: a.severity,
        title: a.title,
        createdAt: a.createdAt,
      })),
    },
    verdict,
    reasons,
  };
}

async function monitorView(
  knex: Knex,
  tenantId: string,
  model: string,
  version: string,
): Promise<ModelHealth['monitor']> {
  const events = (await latestEvents(knex, tenantId, model)).filter((e) => e.version === version);
  const baseline = (await knex('champion_baselines')
    .where({ tenant_id: tenantId, model, version })
    .first('metric', 'value', 'source')) as { metric: string; value: number; source: string } | undefined;
  if (!events.length && !baseline) return null;
  return {
    version,
    baseline: baseline ?? null,
    checks: events.map((e) => ({ check: e.check, tier: e.tier, since: e.at, reason: e.finding.reason })),
  };
}
