/**
 * Capping primary metrics in canary stages (policy `primaryMetric.cap`; docs/statistics.md, "Capping"). Each
 * canary window gets one cap, set from what was known when the stage started — the champion's values over
 * the lookback before it, or the policy's fixed value — so it stays the same at every analysis of the stage,
 * whatever the challenger does. Both arms are capped at that one value from their bins' sums
 * (src/stats/capping.ts), so an A/A comparison stays A/A.
 *
 * Shadow windows are compared per request (paired differences), which bins cannot cap; the watch after
 * promotion compares the new champion with itself. Neither is capped.
 */
import {
  binLowerEdge,
  binOf,
  binUpperEdge,
  type Histogram,
  type HistogramMoments,
} from '../ingest/histogram.js';
import { formatDuration } from '../policy/duration.js';
import type { PrimaryMetric } from '../policy/policy.js';
import { capAtQuantile, cappedSummary, type MomentBin } from '../stats/capping.js';
import type { AnalysisWindow, AnalyzeInput } from './analyze-input.js';
import type { CapRecord } from './cap-record.js';
import type { FiguresByMetric, MetricSource, SourceFigures } from './metric-source.js';
import type { Period } from './periods.js';
import { PROPORTION_METRICS } from './recorded-metrics.js';

export interface CappedPeriods {
  periods: Period[];
  caps: CapRecord[];
}

/** The periods with every capped primary metric's canary summaries replaced by the capped ones. */
export async function capPeriods(
  source: MetricSource,
  input: AnalyzeInput,
  periods: readonly Period[],
): Promise<CappedPeriods> {
  const capped = input.policy.primaryMetric.filter((p) => p.cap !== undefined);
  if (capped.length === 0 || input.mode === 'watch') return { periods: [...periods], caps: [] };
  const caps: CapRecord[] = [];
  const out = await Promise.all(
    periods.map(async (period, i) => {
      const w = input.windows[i];
      if (!w || w.mode !== 'canary' || period.paired) return period;
      let result = period;
      for (const metric of capped) {
        const { record, figures } = await capWindow(source, input, w, metric, result);
        caps.push(record);
        result = figures;
      }
      return result;
    }),
  );
  caps.sort((a, b) => a.stageIndex - b.stageIndex || a.metric.localeCompare(b.metric));
  return { periods: out, caps };
}

async function capWindow(
  source: MetricSource,
  input: AnalyzeInput,
  w: AnalysisWindow,
  metric: PrimaryMetric,
  period: Period,
): Promise<{ record: CapRecord; figures: Period }> {
  const name = metric.name;
  const base = { metric: name, stageIndex: w.index };
  const uncapped = (why: string): { record: CapRecord; figures: Period } => ({
    record: {
      ...base,
      cap: null,
      note: `${name} not capped in stage ${w.index + 1}: ${why}; compared uncapped.`,
    },
    figures: period,
  });
  if (PROPORTION_METRICS.has(name)) return uncapped('a rate of 0/1 values has no tail to cap');
  const cap = metric.cap!;
  let value: number;
  let record: CapRecord;
  if ('value' in cap) {
    // The bin edge at or above the value: capping there is exact (src/stats/capping.ts).
    value = binUpperEdge(binOf(cap.value));
    record = {
      ...base,
      cap: value,
      note: `${name} capped at ${fmt(value)} (the policy’s ${fmt(cap.value)}, to its bin edge).`,
    };
  } else {
    const to = new Date(w.from);
    const from = new Date(to.getTime() - cap.lookback);
    const history = await source.figures({
      tenantId: input.tenantId,
      model: input.model,
      versions: [input.champion],
      role: 'served',
      from,
      to,
      histograms: [name],
    });
    const f = history[input.champion]?.[name];
    const n = f?.summary.n ?? 0;
    const bins = f ? momentBins(f) : undefined;
    const minimum = input.policy.analysis.minSamples;
    if (!bins || n < minimum) {
      return uncapped(
        !f || n === 0
          ? `the champion recorded no values in the ${formatDuration(cap.lookback)} before the stage`
          : !bins
            ? 'the champion’s history was recorded without bin sums (before Arena kept them)'
            : `the champion recorded ${n} values in the ${formatDuration(cap.lookback)} before the stage, fewer than minSamples (${minimum})`,
      );
    }
    value = capAtQuantile(bins, cap.quantile)!;
    record = {
      ...base,
      cap: value,
      quantile: cap.quantile,
      basis: { from: from.toISOString(), to: to.toISOString(), n },
      note:
        `${name} capped at ${fmt(value)} in stage ${w.index + 1}: the champion’s p${cap.quantile * 100} over ` +
        `the ${formatDuration(cap.lookback)} before the stage (${n.toLocaleString('en-US')} values).`,
    };
  }
  const champion = cappedArm(period.champion.figures, name, value);
  const challenger = cappedArm(period.challenger.figures, name, value);
  if (champion === 'no-bins' || challenger === 'no-bins')
    return uncapped('the stage’s values were recorded without bin sums (before Arena kept them)');
  return {
    record,
    figures: {
      ...period,
      champion: { ...period.champion, figures: champion },
      challenger: { ...period.challenger, figures: challenger },
    },
  };
}

/** An arm's figures with the metric's summary capped; unchanged when the arm has not recorded it yet. */
function cappedArm(figures: FiguresByMetric, metric: string, cap: number): FiguresByMetric | 'no-bins' {
  const f = figures[metric];
  if (!f || f.summary.n === 0) return figures;
  const bins = momentBins(f);
  if (!bins) return 'no-bins';
  return { ...figures, [metric]: { ...f, summary: cappedSummary(bins, cap) } };
}

/** The metric's bins with their sums, or undefined when some bin has none (recorded before they were kept). */
export function momentBins(f: SourceFigures): MomentBin[] | undefined {
  return f.histogram && f.histogramMoments ? toMomentBins(f.histogram, f.histogramMoments) : undefined;
}

function toMomentBins(h: Histogram, moments: HistogramMoments): MomentBin[] | undefined {
  const bins: MomentBin[] = [];
  for (const [bin, count] of Object.entries(h)) {
    const m = moments[bin];
    if (!m) return undefined;
    bins.push({
      lower: binLowerEdge(bin),
      upper: binUpperEdge(bin),
      count,
      sum: m[0],
      sumSq: m[1],
      sumCubes: m[2],
    });
  }
  return bins;
}

/** Four significant digits: the cap is a bin edge, itself within 1 % of the quantile it stands for. */
const fmt = (v: number): string => Number(v.toPrecision(4)).toLocaleString('en-US');
