import type { Knex } from 'knex';
import { readVersionMetrics } from '../analysis/rollup-reader.js';
import {
  type CheckState,
  type MonitorCheck,
  type Tier,
  type Transition,
  type TransitionKind,
} from './champion-tiers.js';

export interface Baseline {
  value: number;
  n: number;
  from: Date;
  to: Date;
  source: 'before_promotion' | 'after_promotion';
}

/**
 * The champion's baseline of `metric`, computed once and kept: the version's own figure over the
 * `windowMs` before its promotion (its shadow and canary traffic, what it was promoted on), or, when that
 * holds too few values (a first champion, an undo), over the first `windowMs` after it, once that has passed.
 * Undefined until one of them has `minSamples` values.
 */
export async function ensureBaseline(
  knex: Knex,
  q: {
    tenantId: string;
    model: string;
    version: string;
    metric: string;
    promotedAt: Date;
    windowMs: number;
    minSamples: number;
    now: Date;
  },
): Promise<Baseline | undefined> {
  const key = { tenant_id: q.tenantId, model: q.model, version: q.version, metric: q.metric };
  const stored = (await knex('champion_baselines').where(key).first()) as
    { value: number; n: string; window_from: Date; window_to: Date; source: Baseline['source'] } | undefined;
  if (stored)
    return {
      value: stored.value,
      n: Number(stored.n),
      from: stored.window_from,
      to: stored.window_to,
      source: stored.source,
    };
  const measure = async (from: Date, to: Date) =>
    (
      await readVersionMetrics(knex, {
        tenantId: q.tenantId,
        model: q.model,
        versions: [q.version],
        metrics: [q.metric],
        from,
        to,
        histograms: false,
      })
    )[q.version]?.[q.metric]?.summary;
  const p = q.promotedAt.getTime();
  const candidates: Array<{ from: Date; to: Date; source: Baseline['source'] }> = [
    { from: new Date(p - q.windowMs), to: q.promotedAt, source: 'before_promotion' },
  ];
  if (q.now.getTime() >= p + q.windowMs)
    candidates.push({ from: q.promotedAt, to: new Date(p + q.windowMs), source: 'after_promotion' });
  for (const c of candidates) {
    const s = await measure(c.from, c.to);
    if (!s || s.n < q.minSamples) continue;
    await knex('champion_baselines')
      .insert({ ...key, value: s.mean, n: s.n, window_from: c.from, window_to: c.to, source: c.source })
      .onConflict(['tenant_id', 'model', 'version', 'metric'])
      .ignore();
    return ensureBaseline(knex, q);
  }
  return undefined;
}

interface EventRow {
  id: string;
  version: string;
  check_id: string;
  check: MonitorCheck;
  kind: TransitionKind;
  tier: Tier;
  peak: Tier;
  episode: string;
  figure: number | null;
  baseline: number | null;
  threshold: number;
  n: string;
  reason: string;
  window_from: Date;
  window_to: Date;
  at: Date;
}

/** A transition as stored: which version, and the window the figure came from. */
export interface MonitorEvent extends Transition {
  version: string;
  window: { from: string; to: string };
  at: string;
}

const toEvent = (r: EventRow): MonitorEvent => ({
  version: r.version,
  check: r.check,
  kind: r.kind,
  tier: r.tier,
  peak: r.peak,
  episode: r.episode,
  finding: {
    check: r.check,
    tier: r.tier,
    figure: r.figure,
    baseline: r.baseline,
    threshold: r.threshold,
    n: Number(r.n),
    reason: r.reason,
  },
  window: { from: r.window_from.toISOString(), to: r.window_to.toISOString() },
  at: r.at.toISOString(),
});

/** The latest event of each (version, check) of a model: where every check stands. */
export async function latestEvents(knex: Knex, tenantId: string, model: string): Promise<MonitorEvent[]> {
  const rows = (await knex
    .select('*')
    .from(
      knex('champion_monitor_events')
        .where({ tenant_id: tenantId, model })
        .select('*', knex.raw('row_number() over (partition by version, "check" order by id desc) as rank'))
        .as('e'),
    )
    .where('rank', 1)
    .orderBy('id')) as EventRow[];
  return rows.map(toEvent);
}

export function stateOf(events: readonly MonitorEvent[], version: string, check: MonitorCheck): CheckState {
  const e = events.find((x) => x.version === version && x.check === check);
  if (!e || e.kind === 'resolved') return { tier: 'ok', episode: null, peak: 'ok' };
  return { tier: e.tier, episode: e.episode, peak: e.peak };
}

/** Checks with an open episode on a version that is no longer the champion: resolved on its departure. */
export function openElsewhere(events: readonly MonitorEvent[], champion: string): MonitorEvent[] {
  return events.filter((e) => e.version !== champion && e.kind !== 'resolved');
}

/** What one run decided, in order: read back when a retried activity finds its run already recorded. */
export async function eventsOfRun(
  knex: Knex,
  tenantId: string,
  model: string,
  checkId: string,
): Promise<MonitorEvent[]> {
  const rows = (await knex('champion_monitor_events')
    .where({ tenant_id: tenantId, model, check_id: checkId })
    .orderBy('id')) as EventRow[];
  return rows.map(toEvent);
}

export async function insertEvents(
  knex: Knex | Knex.Transaction,
  tenantId: string,
  model: string,
  checkId: string,
  events: readonly MonitorEvent[],
): Promise<void> {
  if (events.length === 0) return;
  await knex('champion_monitor_events')
    .insert(
      events.map((e) => ({
        tenant_id: tenantId,
        model,
        version: e.version,
        check_id: checkId,
        check: e.check,
        kind: e.kind,
        tier: e.tier,
        peak: e.peak,
        episode: e.episode,
        figure: e.finding.figure,
        baseline: e.finding.baseline,
        threshold: e.finding.threshold,
        n: e.finding.n,
        reason: e.finding.reason,
        window_from: e.window.from,
        window_to: e.window.to,
        at: e.at,
      })),
    )
    .onConflict(['tenant_id', 'model', 'check_id', 'version', 'check'])
    .ignore();
}
