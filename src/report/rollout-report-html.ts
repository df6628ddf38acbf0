import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { renderForestPlot } from './forest-plot.js';
import { escapeHtml, scriptSafeJson } from './html-text.js';
import { decisiveAnalysis, reportCaps, type RolloutReportData } from './rollout-report-data.js';

export { escapeHtml, scriptSafeJson } from './html-text.js';

/** Chart.js's UMD build, inlined so the page opens with no network at all (an e-mail attachment, an archive). */
export function chartJsSource(): string {
  // The package exports only its module entries; the UMD build sits beside the CommonJS one in dist/.
  const cjs = createRequire(import.meta.url).resolve('chart.js');
  return readFileSync(join(dirname(cjs), 'chart.umd.min.js'), 'utf8');
}

const OUTCOME: Record<string, { label: string; tone: string }> = {
  promoted: { label: 'Promoted', tone: 'good' },
  rolled_back: { label: 'Rolled back', tone: 'bad' },
  aborted: { label: 'Aborted', tone: 'bad' },
  rejected: { label: 'Rejected', tone: 'bad' },
  expired: { label: 'Expired', tone: 'bad' },
};

function duration(fromIso: string, toIso: string | null): string {
  if (!toIso) return 'still running';
  const s = Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000);
  const parts = [
    [Math.floor(s / 86400), 'd'],
    [Math.floor((s % 86400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ] as const;
  return (
    parts
      .filter(([n]) => n > 0)
      .map(([n, u]) => `${n}${u}`)
      .join(' ') || '0s'
  );
}

/**
 * The rollout report: one self-contained HTML file (styles, Chart.js and the data inline). Charts are drawn
 * in the browser from the embedded data, without animation so screenshots are stable; the page sets
 * `window.__arenaChartsReady` once every chart is drawn.
 */
export function renderRolloutReportHtml(data: RolloutReportData): string {
  const r = data.rollout;
  const outcome = OUTCOME[r.state] ?? { label: r.state.replace(/_/g, ' '), tone: 'neutral' };
  const e = escapeHtml;
  const trail = [
    ...data.events.map((x) => ({
      at: x.at,
      who: x.actor,
      what: `${x.type}${x.to && x.to !== x.from ? ` → ${x.to}` : ''}`,
      why: x.reason ?? '',
    })),
    ...data.approvals.map((a) => ({
      at: a.at,
      who: a.actor,
      what: `${a.decision} (${a.subject})`,
      why: a.comment ?? '',
    })),
    ...data.alerts.map((a) => ({
      at: a.at,
      who: 'arena',
      what: `alert ${a.type} (${a.severity})`,
      why: a.title,
    })),
  ].sort((a, b) => a.at.localeCompare(b.at));
  const last = decisiveAnalysis(data);
  const primary = last?.primary;
  const caps = reportCaps(data);
  const forest = [...data.analyses].reverse().find((a) => a.segments && a.segments.rows.length)?.segments;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Arena rollout ${e(r.model)} ${e(r.champion ?? '—')} → ${e(r.challenger)}</title>
<style>
  :root { --ink:#1d2330; --muted:#5b6473; --line:#e3e6ec; --bg:#f6f7f9; --good:#1a7f5a; --bad:#b3261e; --neutral:#5b6473; }
  * { box-sizing: border-box; }
  body { margin:0; font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
  header { background:#fff; border-bottom:1px solid var(--line); padding:24px 32px; }
  h1 { font-size:20px; margin:0 0 4px; } h2 { font-size:15px; margin:0 0 12px; }
  .muted { color:var(--muted); } code { font-family:ui-monospace,Menlo,monospace; font-size:12.5px; }
  .badge { display:inline-block; padding:2px 10px; border-radius:999px; font-weight:600; font-size:12px; color:#fff; vertical-align:middle; }
  .good { background:var(--good); } .bad { background:var(--bad); } .neutral { background:var(--neutral); }
  .facts { display:grid; grid-template-columns:repeat(auto-fit,minmax(180px,1fr)); gap:12px; margin-top:16px; }
  .fact { background:var(--bg); border-radius:8px; padding:10px 12px; } .fact b { display:block; font-size:16px; }
  main { padding:24px 32px; display:grid; grid-template-columns:repeat(auto-fit,minmax(460px,1fr)); gap:20px; }
  section { background:#fff; border:1px solid var(--line); border-radius:10px; padding:16px 18px; }
  section.wide { grid-column:1/-1; } .chart { position:relative; height:260px; }
  table { width:100%; border-collapse:collapse; font-size:13px; } th,td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
  th { color:var(--muted); font-weight:600; } td.nowrap { white-space:nowrap; }
  footer { padding:0 32px 32px; color:var(--muted); font-size:12px; }
</style>
</head>
<body>
<header>
  <h1>${e(r.model)}: ${e(r.champion ?? '—')} → ${e(r.challenger)} <span class="badge ${outcome.tone}">${e(outcome.label)}</span></h1>
  <div class="muted">Rollout <code>${e(r.id)}</code>, proposed by <b>${e(r.proposedBy)}</b> on ${e(r.createdAt.replace('T', ' ').slice(0, 19))} UTC</div>
  <div style="margin-top:8px">${e(r.decision ?? 'No decision yet.')}</div>
  <div class="facts">
    <div class="fact"><span class="muted">Duration</span><b>${e(duration(r.createdAt, r.endedAt))}</b></div>
    <div class="fact"><span class="muted">Analyses</span><b>${data.analyses.length}</b></div>
    <div class="fact"><span class="muted">Samples at the decision (champion / challenger)</span><b>${last ? `${last.samples.champion} / ${last.samples.challenger}` : '—'}</b></div>
    <div class="fact"><span class="muted">${e(primary?.metric ?? 'primary metric')} (champion / challenger)</span><b>${primary ? `${primary.champion.toFixed(3)} / ${primary.challenger.toFixed(3)}` : '—'}</b></div>
    <div class="fact"><span class="muted">Improvement (always-valid 95% interval)</span><b>${primary ? `${(primary.estimate * 100).toFixed(1)}% [${(primary.low * 100).toFixed(1)}, ${(primary.high * 100).toFixed(1)}]` : '—'}</b></div>
    <div class="fact"><span class="muted">Temporal workflow</span><b>${data.temporalUi ? `<a href="${e(data.temporalUi)}">${e(r.workflowId)}</a>` : `<code>${e(r.workflowId)}</code>`}</b></div>
  </div>
</header>
<main>
  <section><h2>Traffic to the challenger</h2><div class="chart"><canvas data-chart="traffic" aria-label="challenger traffic share over time"></canvas></div></section>
  <section><h2>Primary metric: improvement with its confidence band</h2><div class="chart"><canvas data-chart="primary" aria-label="primary metric estimate with confidence band"></canvas></div></section>
  <section><h2>Guardrails against their limits</h2><div class="chart"><canvas data-chart="guardrails" aria-label="guardrails against limits"></canvas></div></section>
  <section><h2>Samples per arm</h2><div class="chart"><canvas data-chart="samples" aria-label="samples per arm"></canvas></div></section>
${
  caps.length
    ? `  <section class="wide"><h2>Capped metrics</h2>
    <p class="muted">Values above the cap count as the cap in both arms (docs/statistics.md, "Capping"): the comparison is of capped means.</p>
    <table><thead><tr><th>stage</th><th>metric</th><th>cap</th><th>how it was set</th></tr></thead><tbody>
${caps.map((c) => `      <tr><td>${c.stageIndex + 1}</td><td>${e(c.metric)}</td><td>${c.cap === null ? 'not capped' : e(String(Number(c.cap.toPrecision(6))))}</td><td>${e(c.note)}</td></tr>`).join('\n')}
    </tbody></table>
  </section>
`
    : ''
}${
    forest
      ? `  <section class="wide"><h2>Per-segment check: ${e(forest.metric)} by segment</h2>
    <p class="muted">${e(forest.reason)} Each row is a segment's relative change (better to the right) with its always-valid 95% interval; a segment is worse when its one-sided test, Holm-adjusted across segments, rejects "not worse" (docs/statistics.md, "Segments").</p>
    ${renderForestPlot(forest)}
  </section>
`
      : ''
  }  <section class="wide"><h2>Decision trail</h2>
    <table><thead><tr><th>time (UTC)</th><th>who</th><th>what</th><th>why</th></tr></thead><tbody>
${trail.map((t) => `      <tr><td class="nowrap">${e(t.at.replace('T', ' ').slice(0, 19))}</td><td>${e(t.who)}</td><td>${e(t.what)}</td><td>${e(t.why)}</td></tr>`).join('\n')}
    </tbody></table>
  </section>
</main>
<footer>Generated by Arena from Postgres (rollouts, routing_history, analyses, rollout_events, approvals, alerts). Intervals are always-valid confidence sequences, so peeking at every analysis does not inflate errors.</footer>
<script type="application/json" id="arena-report-data">${scriptSafeJson(data)}</script>
<script>${chartJsSource()}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('arena-report-data').textContent);
  var t0 = Date.parse(data.rollout.createdAt);
  var secs = function (iso) { return (Date.parse(iso) - t0) / 1000; };
  var end = data.rollout.endedAt ? secs(data.rollout.endedAt) : (data.analyses.length ? secs(data.analyses[data.analyses.length - 1].at) : 0);
  // Okabe–Ito: distinguishable with every common colour-vision deficiency.
  var C = { champion: '#0072B2', challenger: '#D55E00', band: 'rgba(213,94,0,0.18)', limit: '#B3261E', shadow: '#999999', ok: '#009E73' };
  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui,-apple-system,"Segoe UI",Roboto,sans-serif';
  Chart.defaults.maintainAspectRatio = false;
  var xAxis = { type: 'linear', min: 0, max: Math.max(end, 1), title: { display: true, text: 'seconds since the proposal' } };
  var el = function (name) { return document.querySelector('canvas[data-chart="' + name + '"]'); };
  var pts = function (rows, f) { return rows.filter(function (r) { return f(r) !== null && f(r) !== undefined && isFinite(f(r)); }).map(function (r) { return { x: secs(r.at), y: f(r) }; }); };

  var steps = data.traffic.map(function (t) { return { x: Math.max(0, secs(t.at)), y: t.challengerPct }; });
  if (steps.length) steps.push({ x: Math.max(end, steps[steps.length - 1].x), y: steps[steps.length - 1].y });
  var shadow = data.traffic.map(function (t) { return { x: Math.max(0, secs(t.at)), y: t.shadow ? 100 : 0 }; });
  if (shadow.length) shadow.push({ x: Math.max(end, shadow[shadow.length - 1].x), y: shadow[shadow.length - 1].y });
  new Chart(el('traffic'), { type: 'line', data: { datasets: [
    { label: 'challenger serves (%)', data: steps, stepped: 'before', borderColor: C.challenger, backgroundColor: C.band, fill: 'origin', pointRadius: 0, borderWidth: 2 },
    { label: 'challenger mirrored in shadow (%)', data: shadow, stepped: 'before', borderColor: C.shadow, borderDash: [5, 4], pointRadius: 0, borderWidth: 1.5 } ] },
    options: { scales: { x: xAxis, y: { min: 0, max: 100, title: { display: true, text: '% of requests' } } } } });

  // "Waiting for data" analyses carry no estimate worth drawing.
  var withPrimary = data.analyses.filter(function (a) { return a.primary && a.decision !== 'waiting'; });
  var pct = function (v) { return v * 100; };
  var minImp = withPrimary.length ? pct(withPrimary[0].primary.minImprovement) : null;
  var flat = function (y) { return [{ x: 0, y: y }, { x: Math.max(end, 1), y: y }]; };
  var primarySets = [
    { label: 'interval low', data: pts(withPrimary, function (a) { return pct(a.primary.low); }), borderColor: 'transparent', pointRadius: 0, fill: false },
    { label: 'always-valid 95% interval', data: pts(withPrimary, function (a) { return pct(a.primary.high); }), borderColor: 'transparent', backgroundColor: C.band, pointRadius: 0, fill: '-1' },
    { label: 'estimated improvement (%)', data: pts(withPrimary, function (a) { return pct(a.primary.estimate); }), borderColor: C.challenger, pointRadius: 1.5, borderWidth: 2 },
    { label: 'no difference', data: flat(0), borderColor: '#888', borderDash: [2, 3], pointRadius: 0, borderWidth: 1 } ];
  if (minImp !== null) primarySets.push({ label: 'required improvement', data: flat(minImp), borderColor: C.ok, borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5 });
  new Chart(el('primary'), { type: 'line', data: { datasets: primarySets },
    options: { plugins: { legend: { labels: { filter: function (i) { return i.text !== 'interval low'; } } } },
      scales: { x: xAxis, y: { title: { display: true, text: 'improvement of the challenger (%)' } } } } });

  var names = [];
  data.analyses.forEach(function (a) { a.guardrails.forEach(function (g) { if (g.limit !== null && names.indexOf(g.metric) < 0) names.push(g.metric); }); });
  var palette = ['#D55E00', '#CC79A7', '#E69F00', '#56B4E9'];
  var guardSets = names.map(function (name, k) {
    return { label: name + ' (challenger, % of its limit)', borderColor: palette[k % palette.length], pointRadius: 1.5, borderWidth: 2,
      data: pts(data.analyses, function (a) { var g = a.guardrails.filter(function (x) { return x.metric === name; })[0]; return g && g.limit ? (100 * g.challenger) / g.limit : null; }) };
  }).concat(names.map(function (name, k) {
    return { label: name + ' (champion)', borderColor: palette[k % palette.length], borderDash: [3, 3], pointRadius: 0, borderWidth: 1,
      data: pts(data.analyses, function (a) { var g = a.guardrails.filter(function (x) { return x.metric === name; })[0]; return g && g.limit ? (100 * g.champion) / g.limit : null; }) };
  }));
  guardSets.push({ label: 'limit', data: flat(100), borderColor: C.limit, pointRadius: 0, borderWidth: 2 });
  new Chart(el('guardrails'), { type: 'line', data: { datasets: guardSets },
    options: { scales: { x: xAxis, y: { min: 0, suggestedMax: 120, title: { display: true, text: '% of the limit (100 = at the limit)' } } } } });

  new Chart(el('samples'), { type: 'line', data: { datasets: [
    { label: 'champion', data: pts(data.analyses, function (a) { return a.samples.champion; }), borderColor: C.champion, pointRadius: 1.5, borderWidth: 2 },
    { label: 'challenger', data: pts(data.analyses, function (a) { return a.samples.challenger; }), borderColor: C.challenger, pointRadius: 1.5, borderWidth: 2 } ] },
    options: { scales: { x: xAxis, y: { min: 0, title: { display: true, text: 'samples in the analysis' } } } } });

  window.__arenaChartsReady = true;
})();
</script>
</body>
</html>
`;
}
