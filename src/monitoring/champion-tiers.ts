import type { MonitoringPolicy } from './policy.js';

/**
 * The champion monitor's judgement, kept pure so its tiers and its episodes are checked by unit tests:
 * what one run measured becomes a finding per check, and a finding against the check's open episode
 * becomes a transition (opened, escalated, eased, resolved) or nothing (the condition holds, or is unknown).
 */

export const MONITOR_CHECKS = ['accuracy', 'latency', 'error_rate', 'stability'] as const;
export type MonitorCheck = (typeof MONITOR_CHECKS)[number];
export type Tier = 'ok' | 'warning' | 'critical';

export type ChampionPolicy = MonitoringPolicy['champion'];

/** One window's figure: the metric's mean (or quantile) and how many values it summarises. */
export interface WindowFigure {
  value: number | null;
  n: number;
}

export interface ChampionFigures {
  accuracy: WindowFigure;
  latency: WindowFigure;
  errorRate: WindowFigure;
  /** The accuracy metric over the stability window (48 h). */
  stability: WindowFigure;
}

export interface Finding {
  check: MonitorCheck;
  /** null: not judged (too few values, or no baseline for a check that needs one). */
  tier: Tier | null;
  figure: number | null;
  baseline: number | null;
  /** The threshold the tier was judged by (the crossed one, or the warning threshold when ok). */
  threshold: number;
  n: number;
  /** Why, in a sentence people read. */
  reason: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** Relative worsening of `value` against `baseline` in the metric's direction (0.01 = 1 % worse). */
export function worsening(value: number, baseline: number, direction: 'higher' | 'lower'): number {
  if (baseline === 0) return direction === 'higher' ? (value < 0 ? Infinity : 0) : value > 0 ? Infinity : 0;
  const change = (value - baseline) / Math.abs(baseline);
  return direction === 'higher' ? -change : change;
}

function tierOf(x: number, warning: number, critical: number): Tier {
  return x >= critical ? 'critical' : x >= warning ? 'warning' : 'ok';
}

export function judgeChampion(
  figures: ChampionFigures,
  baseline: number | null,
  p: ChampionPolicy,
): Finding[] {
  const a = p.accuracy;
  /**
   * One check: not judged on too few values (or, for a check against the baseline, without one), else the
   * tier of `measure(value)` between the thresholds, explained by `say`.
   */
  const judge = (
    check: MonitorCheck,
    f: WindowFigure,
    c: {
      what: string;
      warning: number;
      critical: number;
      against?: number | null;
      measure: (value: number) => number;
      say: (value: number, measured: number) => string;
    },
  ): Finding => {
    const base = { check, figure: f.value, baseline: c.against ?? null, n: f.n };
    if (f.value === null || f.n < p.minSamples)
      return {
        ...base,
        tier: null,
        threshold: c.warning,
        reason: `not judged: ${f.n} ${c.what}, fewer than ${p.minSamples}`,
      };
    if (c.against === null)
      return { ...base, tier: null, threshold: c.warning, reason: 'not judged: no baseline yet' };
    const measured = c.measure(f.value);
    const tier = tierOf(measured, c.warning, c.critical);
    return {
      ...base,
      tier,
      threshold: tier === 'critical' ? c.critical : c.warning,
      reason: c.say(f.value, measured),
    };
  };
  const relative = (check: 'accuracy' | 'stability', f: WindowFigure, warning: number, critical: number) =>
    judge(check, f, {
      what: `values of ${a.metric}`,
      warning,
      critical,
      against: baseline,
      measure: (v) => worsening(v, baseline!, a.direction),
      say: (v, w) =>
        `${a.metric} ${v.toPrecision(4)} vs baseline ${baseline!.toPrecision(4)}: ${w > 0 ? `${pct(w)} worse` : 'not worse'} (warning at ${pct(warning)}${check === 'accuracy' ? `, critical at ${pct(critical)}` : ''})`,
    });
  const l = p.latency;
  const e = p.errorRate;
  return [
    relative('accuracy', figures.accuracy, a.warning, a.critical),
    judge('latency', figures.latency, {
      what: 'latencies',
      warning: l.warningMs,
      critical: l.criticalMs,
      measure: (v) => v,
      say: (v) =>
        `p${Math.round(l.quantile * 100)} latency ${v.toFixed(0)} ms (warning at ${l.warningMs}, critical at ${l.criticalMs})`,
    }),
    judge('error_rate', figures.errorRate, {
      what: 'requests',
      warning: e.warning,
      critical: e.critical,
      measure: (v) => v,
      say: (v) => `error rate ${pct(v)} (warning at ${pct(e.warning)}, critical at ${pct(e.critical)})`,
    }),
    // The stability rule has one tier: a drift beyond maxDrop over 48 h is a warning however large (the
    // accuracy check's own tiers already page on a steep drop).
    relative('stability', figures.stability, p.stability.maxDrop, Infinity),
  ];
}

/** Where a check stands: the tier of its open episode (ok when none), and the run that opened it. */
export interface CheckState {
  tier: Tier;
  /** The check id of the run that opened the episode; null when ok. */
  episode: string | null;
  /** The highest tier the open episode reached (its resolution is sent with this severity). */
  peak: Tier;
}

export type TransitionKind = 'opened' | 'escalated' | 'eased' | 'resolved';

export interface Transition {
  check: MonitorCheck;
  kind: TransitionKind;
  tier: Tier;
  /** The episode this transition belongs to (the opening run's check id). */
  episode: string;
  peak: Tier;
  finding: Finding;
}

const RANK: Record<Tier, number> = { ok: 0, warning: 1, critical: 2 };

/**
 * A finding against its check's state. An unknown finding (too few values) changes nothing: an episode
 * is neither opened nor resolved on silence. While the tier holds, nothing is sent (de-duplication).
 */
export function transitionOf(state: CheckState, finding: Finding, checkId: string): Transition | null {
  const tier = finding.tier;
  if (tier === null || tier === state.tier) return null;
  const base = { check: finding.check, tier, finding };
  if (state.tier === 'ok') return { ...base, kind: 'opened', episode: checkId, peak: tier };
  const episode = state.episode ?? checkId;
  if (tier === 'ok') return { ...base, kind: 'resolved', episode, peak: state.peak };
  if (RANK[tier] > RANK[state.tier]) return { ...base, kind: 'escalated', episode, peak: tier };
  return { ...base, kind: 'eased', episode, peak: state.peak };
}

/** The dedupe key of the alert an episode raised at a tier: one alert per episode and tier. */
export const episodeAlertKey = (
  model: string,
  version: string,
  check: MonitorCheck,
  episode: string,
  tier: Tier,
): string => `monitor:${model}:${version}:${check}:${episode}:${tier}`;
