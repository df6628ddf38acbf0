import { escapeHtml } from './html-text.js';

/** One segment's row of the per-segment check, as a report shows it. */
export interface ForestRow {
  segment: string;
  n: { champion: number; challenger: number };
  tested: boolean;
  /** Relative change, positive = better, with its always-valid interval; null when untested. */
  estimate: number | null;
  low: number | null;
  high: number | null;
  adjustedPValue: number | null;
  worse: boolean;
}

export interface ForestPlot {
  metric: string;
  onWorse: 'block' | 'partial';
  status: string;
  reason: string;
  rows: ForestRow[];
  /** The pooled (stratified) estimate and interval, drawn as the reference row. */
  pooled: { estimate: number; low: number; high: number } | null;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

/**
 * A forest plot as inline SVG: one row per segment (its estimate and always-valid interval of the relative
 * change, better to the right), the pooled estimate as the last row, a zero line, worse segments in red.
 * Drawn on the server so the report needs no script for it and stays readable printed or offline.
 */
export function renderForestPlot(plot: ForestPlot): string {
  const e = escapeHtml;
  const rows = [
    ...plot.rows,
    ...(plot.pooled
      ? [
          {
            segment: 'all (stratified)',
            n: { champion: NaN, challenger: NaN },
            tested: true,
            estimate: plot.pooled.estimate,
            low: plot.pooled.low,
            high: plot.pooled.high,
            adjustedPValue: null,
            worse: false,
          } satisfies ForestRow,
        ]
      : []),
  ];
  const bounds = rows.flatMap((r) => (r.tested && r.low !== null && r.high !== null ? [r.low, r.high] : []));
  // Clamp the axis: an interval from a segment with barely enough samples can be very wide.
  const lo = Math.max(-1, Math.min(0, ...bounds));
  const hi = Math.min(1, Math.max(0, ...bounds));
  const span = hi - lo || 1;
  const [left, width, rowH, top] = [150, 420, 22, 24];
  const x = (v: number): number => left + ((Math.min(hi, Math.max(lo, v)) - lo) / span) * width;
  const height = top + rows.length * rowH + 10;
  const lines = rows.map((r, i) => {
    const y = top + i * rowH + rowH / 2;
    const label = `<text x="${left - 8}" y="${y + 4}" text-anchor="end" font-size="12">${e(r.segment)}</text>`;
    if (!r.tested || r.estimate === null || r.low === null || r.high === null)
      return `${label}<text x="${left + 4}" y="${y + 4}" font-size="11" fill="#5b6473">too few samples (${r.n.champion} / ${r.n.challenger})</text>`;
    const colour = r.worse ? '#b3261e' : r.segment === 'all (stratified)' ? '#1d2330' : '#1a7f5a';
    const note = r.adjustedPValue === null ? '' : `, adjusted p ${r.adjustedPValue.toPrecision(2)}`;
    return (
      `${label}<line x1="${x(r.low).toFixed(1)}" x2="${x(r.high).toFixed(1)}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="2"/>` +
      `<rect x="${(x(r.estimate) - 4).toFixed(1)}" y="${y - 4}" width="8" height="8" fill="${colour}"/>` +
      `<text x="${left + width + 8}" y="${y + 4}" font-size="11" fill="${colour}">${pct(r.estimate)} [${pct(r.low)}, ${pct(r.high)}]${note}</text>`
    );
  });
  return `<svg class="forest" role="img" aria-label="per-segment forest plot of ${e(plot.metric)}" viewBox="0 0 ${left + width + 250} ${height}" width="100%">
  <line x1="${x(0).toFixed(1)}" x2="${x(0).toFixed(1)}" y1="${top - 6}" y2="${height - 6}" stroke="#9aa1ad" stroke-dasharray="3 3"/>
  <text x="${left}" y="14" font-size="11" fill="#5b6473">${pct(lo)} (worse)</text>
  <text x="${left + width}" y="14" font-size="11" fill="#5b6473" text-anchor="end">${pct(hi)} (better)</text>
  ${lines.join('\n  ')}
</svg>`;
}
