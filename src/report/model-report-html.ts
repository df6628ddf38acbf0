import { sum } from 'simple-statistics';
import type { ModelReportData } from './model-report-data.js';
import { chartJsSource, escapeHtml as e, scriptSafeJson } from './rollout-report-html.js';

/**
 * The weekly performance report of a model, in the rollout report's style: one self-contained HTML file
 * (Chart.js and the data inline) with the champion's daily MAE, the backtest trend, drift per feature, and
 * the week's rollouts, retrains and alerts. Sets `window.__arenaChartsReady` when drawn.
 */
export function renderModelReportHtml(d: ModelReportData): string {
  const table = (head: string[], rows: string[][]): string =>
    rows.length
      ? `<table><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead><tbody>${rows
          .map((r) => `<tr>${r.map((c) => `<td>${e(c)}</td>`).join('')}</tr>`)
          .join('')}</tbody></table>`
      : '<p class="muted">None this week.</p>';
  const served = sum(d.daily.map((x) => x.n));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Arena weekly report: ${e(d.model)}</title>
<style>
  body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:#1d2330; background:#f6f7f9; }
  header { background:#fff; border-bottom:1px solid #e3e6ec; padding:24px 32px; } h1 { font-size:20px; margin:0 0 4px; } h2 { font-size:15px; margin:0 0 12px; }
  .muted { color:#5b6473; } main { padding:24px 32px; display:grid; grid-template-columns:repeat(auto-fit,minmax(460px,1fr)); gap:20px; }
  section { background:#fff; border:1px solid #e3e6ec; border-radius:10px; padding:16px 18px; } section.wide { grid-column:1/-1; }
  .chart { position:relative; height:240px; } table { width:100%; border-collapse:collapse; font-size:13px; }
  th,td { text-align:left; padding:6px 8px; border-bottom:1px solid #e3e6ec; } th { color:#5b6473; }
</style></head><body>
<header><h1>${e(d.model)}: weekly performance</h1>
<div class="muted">${e(d.from.slice(0, 10))} to ${e(d.to.slice(0, 10))} · champion ${e(d.champion ?? '—')} · ${served} served predictions</div></header>
<main>
  <section><h2>Champion: daily MAE</h2><div class="chart"><canvas data-chart="daily"></canvas></div></section>
  <section><h2>Backtests: MAE per 7-day window</h2><div class="chart"><canvas data-chart="backtests"></canvas></div></section>
  <section class="wide"><h2>Drift: PSI per feature (threshold 0.25)</h2><div class="chart"><canvas data-chart="drift"></canvas></div></section>
  <section class="wide"><h2>Rollouts</h2>${table(
    ['started', 'rollout', 'challenger', 'state', 'decision'],
    d.rollouts.map((r) => [
      r.createdAt.slice(0, 19).replace('T', ' '),
      r.id,
      r.challenger,
      r.state,
      r.decision ?? '',
    ]),
  )}</section>
  <section class="wide"><h2>Retraining jobs</h2>${table(
    ['started', 'job', 'trigger', 'status', 'candidate', 'error'],
    d.retrains.map((r) => [
      r.createdAt.slice(0, 19).replace('T', ' '),
      r.id,
      r.trigger,
      r.status,
      r.candidate ?? '',
      r.error ?? '',
    ]),
  )}</section>
  <section class="wide"><h2>Alerts</h2>${table(
    ['raised', 'type', 'severity', 'status', 'title'],
    d.alerts.map((a) => [a.at.slice(0, 19).replace('T', ' '), a.type, a.severity, a.status, a.title]),
  )}</section>
</main>
<script type="application/json" id="arena-report-data">${scriptSafeJson(d)}</script>
<script>${chartJsSource()}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('arena-report-data').textContent);
  Chart.defaults.animation = false; Chart.defaults.maintainAspectRatio = false;
  var el = function (n) { return document.querySelector('canvas[data-chart="' + n + '"]'); };
  new Chart(el('daily'), { type: 'line', data: { labels: d.daily.map(function (x) { return x.day; }), datasets: [
    { label: 'MAE (served, with feedback)', data: d.daily.map(function (x) { return x.mae; }), borderColor: '#0072B2', spanGaps: true } ] } });
  new Chart(el('backtests'), { type: 'line', data: { labels: d.backtests.map(function (x) { return x.windowEnd + ' (' + x.version + ')'; }), datasets: [
    { label: 'MAE', data: d.backtests.map(function (x) { return x.mae; }), borderColor: '#D55E00' },
    { label: 'bias', data: d.backtests.map(function (x) { return x.bias; }), borderColor: '#999999', borderDash: [4, 3] } ] } });
  var features = []; d.drift.forEach(function (r) { if (features.indexOf(r.feature) < 0) features.push(r.feature); });
  var last = {}; d.drift.forEach(function (r) { last[r.feature] = r.psi; });
  new Chart(el('drift'), { type: 'bar', data: { labels: features, datasets: [
    { label: 'latest PSI', data: features.map(function (f) { return last[f]; }), backgroundColor: features.map(function (f) { return last[f] > 0.25 ? '#D55E00' : '#009E73'; }) } ] },
    options: { scales: { y: { beginAtZero: true } } } });
  window.__arenaChartsReady = true;
})();
</script></body></html>
`;
}
