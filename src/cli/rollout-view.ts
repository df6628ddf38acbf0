import type { RolloutEvent, RolloutStatus } from '../rollout/types.js';
import type { GateResult } from '../stats/gate/index.js';
import { percentOf } from '../routing/weight.js';
import { PROPORTION_METRICS } from '../analysis/recorded-metrics.js';

const fmt = (x: number): string =>
  Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3);
const pct = (x: number): string => `${(x * 100).toFixed(Math.abs(x) < 0.1 ? 2 : 1)}%`;
const signedPct = (x: number): string => `${x >= 0 ? '+' : ''}${pct(x)}`;

const value = (metric: string, x: number): string =>
  // A proportion (error, correct) reads better as a percentage.
  PROPORTION_METRICS.has(metric.split('@')[0]!) ? pct(x) : fmt(x);

/** The gate's output stored with each analysis; older analyses or foreign shapes are shown without it. */
function gateOf(details: unknown): GateResult | null {
  if (!details || typeof details !== 'object') return null;
  const g = details as Partial<GateResult>;
  return Array.isArray(g.metrics) && Array.isArray(g.guardrails) ? (g as GateResult) : null;
}

/** One decision or transition, as a line of the trail. */
export function formatEvent(e: RolloutEvent): string {
  return `#${e.seq} ${e.at.slice(11, 19)} ${e.type}${e.to && e.to !== e.from ? ` → ${e.to}` : ''} by ${e.actor}${e.reason ? `: ${e.reason}` : ''}`;
}

/** The human view of a rollout used by `rollout status`: where it stands, then its latest events. */
export function renderStatus(s: RolloutStatus): string {
  return [renderPanel(s), 'events', ...s.events.slice(-8).map((e) => `  ${formatEvent(e)}`)].join('\n');
}

/** Where a rollout stands now (the live part of `--watch` and the demo; events are printed as a trail). */
export function renderPanel(s: RolloutStatus): string {
  const lines = [
    `${s.rolloutId}  ${s.model}: ${s.champion} → ${s.challenger}`,
    `state   ${s.state}${s.paused ? ' (paused)' : ''}`,
  ];
  if (s.stage) {
    const split =
      s.stage.mode === 'canary'
        ? `${percentOf(s.stage.weightBp)}% challenger, ${100 - percentOf(s.stage.weightBp)}% champion`
        : 'shadow (champion serves, challenger mirrored)';
    lines.push(`stage   ${s.stage.index + 1}: ${s.stage.mode} — ${split}; ends ${s.stage.endsAt}`);
  }
  const a = s.lastAnalysis;
  if (a) {
    lines.push(
      `samples champion ${a.samples.champion}, challenger ${a.samples.challenger} (${a.mode} analysis)`,
    );
    const gate = gateOf(a.details);
    for (const m of gate?.metrics ?? []) {
      const better = m.improvement.estimate >= 0 ? 'better' : 'worse';
      lines.push(
        `primary ${m.metric} (${m.analysis}): champion ${value(m.metric, m.champion.value)}, challenger ${value(m.metric, m.challenger.value)}` +
          ` → ${pct(Math.abs(m.improvement.estimate))} ${better}, 95% interval [${signedPct(m.improvement.interval[0])}, ${signedPct(m.improvement.interval[1])}]` +
          `, needs ≥ ${pct(m.minImprovement)}: ${m.status}`,
      );
      if (m.twoProportionZ)
        lines.push(
          `        fixed-horizon two-proportion z-test (pooled, not deciding): z = ${m.twoProportionZ.z.toFixed(2)}, p = ${m.twoProportionZ.pValue.toPrecision(3)}`,
        );
    }
    if (!gate?.metrics.length && a.primary)
      lines.push(
        `primary ${a.primary.metric}: ${fmt(a.primary.estimate)} [${fmt(a.primary.ci[0])}, ${fmt(a.primary.ci[1])}] p=${a.primary.pValue.toPrecision(3)}`,
      );
    for (const g of gate?.guardrails ?? []) {
      const limits = g.checks.map(
        (c) => `${c.kind} ${c.scale === 'relative' ? pct(c.limit) : value(g.metric, c.limit)}`,
      );
      lines.push(
        `guard   ${g.metric}: champion ${value(g.metric, g.champion.value)}, challenger ${value(g.metric, g.challenger.value)}` +
          // A check that is waiting for data has no limits to show yet.
          `${limits.length ? ` (${limits.join(', ')})` : ''}: ${g.status}`,
      );
    }
    if (gate?.segments) lines.push(...segmentLines(gate.segments));
    if (gate?.srm?.tested && gate.srm.mismatch) lines.push(`srm     ${gate.srm.reason}`);
    lines.push(`gate    ${a.decision} → ${a.action}: ${a.summary}`);
  }
  if (s.decision) lines.push(`decision ${s.decision}`);
  if (s.approvals.length)
    lines.push(
      `approvals ${s.approvals.map((x) => `${x.by}${x.comment ? ` ("${x.comment}")` : ''}`).join(', ')}`,
    );
  return lines.join('\n');
}

/** The per-segment check: one line per segment, worse ones marked, at most 12 (the report has them all). */
function segmentLines(check: NonNullable<GateResult['segments']>): string[] {
  const shown = check.verdicts.slice(0, 12);
  const rows = shown.map((v) => {
    const head = `        ${v.segment.padEnd(10).slice(0, 24)} n ${v.n.champion}/${v.n.challenger}`;
    if (!v.tested || v.improvement === null || !v.interval) return `${head}  too few samples`;
    return (
      `${head}  ${signedPct(v.improvement)} [${signedPct(v.interval[0])}, ${signedPct(v.interval[1])}]` +
      `  adj. p ${v.adjustedPValue!.toPrecision(2)}${v.worse ? '  WORSE' : ''}`
    );
  });
  const more = check.verdicts.length - shown.length;
  return [
    `segment ${check.metric} by segment (${check.onWorse} on worse): ${check.status}`,
    ...rows,
    ...(more > 0 ? [`        … ${more} more in the report`] : []),
  ];
}
