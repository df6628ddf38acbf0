import type { RolloutStatus } from '../rollout/types.js';

const fmt = (x: number): string =>
  Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3);

/** The human view of a rollout used by `rollout status [--watch]` and the demo. */
export function renderStatus(s: RolloutStatus): string {
  const lines = [
    `${s.rolloutId}  ${s.model}: ${s.champion} → ${s.challenger}`,
    `state   ${s.state}${s.paused ? ' (paused)' : ''}`,
  ];
  if (s.stage) {
    const split =
      s.stage.mode === 'canary'
        ? `${s.stage.weightBp / 100}% challenger`
        : 'shadow (champion serves, challenger mirrored)';
    lines.push(`stage   ${s.stage.index + 1}: ${s.stage.mode} — ${split}; ends ${s.stage.endsAt}`);
  }
  const a = s.lastAnalysis;
  if (a) {
    lines.push(`samples champion ${a.samples.champion}, challenger ${a.samples.challenger}`);
    if (a.primary)
      lines.push(
        `primary ${a.primary.metric}: ${fmt(a.primary.estimate)} [${fmt(a.primary.ci[0])}, ${fmt(a.primary.ci[1])}] p=${a.primary.pValue.toPrecision(3)}`,
      );
    lines.push(`gate    ${a.decision} → ${a.action}: ${a.summary}`);
  }
  if (s.decision) lines.push(`decision ${s.decision}`);
  if (s.approvals.length)
    lines.push(
      `approvals ${s.approvals.map((x) => `${x.by}${x.comment ? ` ("${x.comment}")` : ''}`).join(', ')}`,
    );
  lines.push('events');
  for (const e of s.events.slice(-8))
    lines.push(
      `  ${e.at}  #${e.seq} ${e.type}${e.to && e.to !== e.from ? ` → ${e.to}` : ''} by ${e.actor}${e.reason ? `: ${e.reason}` : ''}`,
    );
  return lines.join('\n');
}
