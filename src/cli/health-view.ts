import type { MetricTrend, ModelHealth } from '../health/model-health.js';

const num = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(3));

function trendLine(t: MetricTrend): string {
  const w = (x: { n: number; mean: number } | null): string => (x ? `${num(x.mean)} (n=${x.n})` : '—');
  const change =
    t.change === null ? '' : ` ${t.change >= 0 ? '+' : ''}${(t.change * 100).toFixed(1)}% week on week`;
  return `${t.metric}: 7d ${w(t.last7d)}, 30d ${w(t.last30d)}; ${t.trend}${change}`;
}

/** `arena model health`: the verdict first, then the facts behind it. */
export function renderHealth(h: ModelHealth): string {
  const mark = { ok: 'OK', attention: 'ATTENTION', critical: 'CRITICAL' }[h.verdict];
  const lines = [`${h.model}: ${mark}`, ...h.reasons.map((r) => `  - ${r}`)];
  if (h.champion)
    lines.push(
      `champion   ${h.champion.version} (${h.champion.status}${h.champion.promotedAt ? `, since ${h.champion.promotedAt.slice(0, 16).replace('T', ' ')}Z` : ''})  ${trendLine(h.champion.primary)}` +
        (h.champion.baseline !== null ? `; holdout baseline ${num(h.champion.baseline)}` : ''),
    );
  else lines.push('champion   none');
  if (h.challenger)
    lines.push(
      `challenger ${h.challenger.version} (${h.challenger.status}, ${h.challenger.mode}${h.challenger.mode === 'canary' ? ` ${h.challenger.weightPct}%` : ''})  ${trendLine(h.challenger.primary)}`,
    );
  if (h.rollout)
    lines.push(
      `rollout    ${h.rollout.rolloutId} ${h.rollout.state}: ${h.rollout.eligibility}` +
        (h.rollout.confidence !== null ? ` (confidence ${(h.rollout.confidence * 100).toFixed(1)}%)` : ''),
    );
  lines.push(
    h.backtest
      ? `backtest   ${h.backtest.version} ${h.backtest.windowStart}..${h.backtest.windowEnd}: MAE ${h.backtest.mae?.toFixed(3) ?? '—'}, MAPE ${h.backtest.mape !== null ? `${(h.backtest.mape * 100).toFixed(1)}%` : '—'}, bias ${h.backtest.bias?.toFixed(3) ?? '—'} (n=${h.backtest.n})`
      : 'backtest   none yet',
  );
  if (h.retrain) {
    const r = h.retrain;
    const when = (iso: string | null): string => (iso ? iso.slice(0, 16).replace('T', ' ') + 'Z' : '—');
    lines.push(
      `retrain    ${r.jobId} (${r.trigger}) ${r.status}` +
        (r.candidateVersion ? `: ${r.candidateVersion}` : '') +
        (r.finishedAt ? `, finished ${when(r.finishedAt)}` : '') +
        (r.deployedAt ? `, deployed ${when(r.deployedAt)}` : ''),
    );
  }
  if (h.monitor) {
    const m = h.monitor;
    const b = m.baseline;
    lines.push(
      `monitor    ${m.version}: baseline ${b ? `${b.metric} ${b.value.toPrecision(4)} (${b.source.replace('_', ' ')})` : 'not yet'}` +
        (m.checks.length
          ? m.checks
              .map((c) => `, ${c.check} ${c.tier} since ${c.since.slice(0, 16).replace('T', ' ')}Z`)
              .join('')
          : ', every check ok'),
    );
  }
  const s = h.alerts.bySeverity;
  lines.push(
    `alerts     ${h.alerts.open} open (${s.critical} critical, ${s.warning} warning, ${s.info} info)`,
  );
  for (const a of h.alerts.latest) lines.push(`  #${a.id} ${a.severity} ${a.type}: ${a.title}`);
  return lines.join('\n');
}
