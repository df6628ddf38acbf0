import type { AnalysisWindow, AnalyzeInput } from './analyze-input.js';
import type { FiguresByMetric, MetricSource } from './metric-source.js';
import { REQUEST_COUNT_METRIC, requestCount } from './recorded-metrics.js';

/** One version's figures over a period, and the share of traffic it was meant to get (0: no split). */
export interface Arm {
  figures: FiguresByMetric;
  weight: number;
}

/** The two arms of one period of constant traffic split, compared as its mode compares them. */
export interface Period {
  champion: Arm;
  challenger: Arm;
  /** Shadow: both versions scored the same requests, so the challenger's figures hold paired differences. */
  paired: boolean;
  /**
   * Requests each arm served once routers had settled on the split (see settledFrom): what the
   * sample-ratio check counts. Absent: the whole window's counts.
   */
  srmCounts?: { champion: number; challenger: number };
}

/** The periods an analysis compares, one per window, or the self-baseline of a watch without holdback. */
export async function readPeriods(source: MetricSource, input: AnalyzeInput): Promise<Period[]> {
  if (input.mode === 'watch' && input.policy.watch.holdback === 0)
    return [await selfBaselinePeriod(source, input)];
  return Promise.all(input.windows.map((w) => readPeriod(source, input, w)));
}

/**
 * The challenger's intended share of a canary window: the stage's weight; in the watch window, all but the
 * holdback, which is what the previous champion (the analysis' champion arm then) keeps.
 */
export function challengerShare(input: Pick<AnalyzeInput, 'policy'>, w: AnalysisWindow): number {
  const stage = input.policy.stages[w.index];
  return stage?.mode === 'canary' ? stage.weight / 100 : 1 - input.policy.watch.holdback / 100;
}

/**
 * Where a split window's sample-ratio count starts: `analysis.routingSettle` after the split changed, at
 * most a quarter of the window's planned length in. Routers that cache the routing table (the Python client
 * revalidates every few seconds) keep deciding by the old split for a moment; those requests are genuine
 * requests of the arm they went to, so metrics and guardrails keep them (a breach is not judged any later),
 * but counted against the new split they read as a mismatch that pauses the rollout although assignment is
 * sound. Shadow windows have no split. Rollouts started before the setting existed have none.
 */
export function settledFrom(input: Pick<AnalyzeInput, 'policy'>, w: AnalysisWindow): number {
  const from = Date.parse(w.from);
  const settle = input.policy.analysis.routingSettle ?? 0;
  if (w.mode === 'shadow' || settle <= 0) return from;
  const stage = input.policy.stages[w.index];
  const planned = stage ? stage.duration : input.policy.watch.duration;
  return from + Math.min(settle, Math.floor(planned / 4));
}

/** Reads one window's figures for both arms, as the mode compares them. */
async function readPeriod(source: MetricSource, input: AnalyzeInput, w: AnalysisWindow): Promise<Period> {
  const base = {
    tenantId: input.tenantId,
    model: input.model,
    from: new Date(w.from),
    to: new Date(w.to),
    histograms: binnedMetrics(input),
    moments: cappedMetrics(input),
  };
  if (w.mode === 'shadow') {
    const [champ, chall] = await Promise.all([
      source.figures({ ...base, versions: [input.champion], role: 'served' }),
      source.figures({ ...base, versions: [input.challenger], role: 'shadow' }),
    ]);
    return {
      champion: { figures: champ[input.champion] ?? {}, weight: 1 },
      challenger: { figures: chall[input.challenger] ?? {}, weight: 1 },
      paired: true,
    };
  }
  const versions = [input.champion, input.challenger];
  const settled = settledFrom(input, w);
  const [figures, afterSettle] = await Promise.all([
    source.figures({ ...base, versions, role: 'served' }),
    // The request count only, and no bins: a fraction of the first read's cost.
    settled > Date.parse(w.from)
      ? source.figures({
          ...base,
          from: new Date(settled),
          versions,
          role: 'served',
          histograms: [],
          moments: [],
          metrics: [REQUEST_COUNT_METRIC],
        })
      : undefined,
  ]);
  const weight = challengerShare(input, w);
  return {
    champion: { figures: figures[input.champion] ?? {}, weight: 1 - weight },
    challenger: { figures: figures[input.challenger] ?? {}, weight },
    paired: false,
    ...(afterSettle
      ? {
          srmCounts: {
            champion: requestCount(afterSettle[input.champion] ?? {}),
            challenger: requestCount(afterSettle[input.challenger] ?? {}),
          },
        }
      : {}),
  };
}

/**
 * The watch without a holdback has no concurrent control, so the new champion is compared with itself:
 * its figures before promotion (the last stage, window 0; its shadow scores when that stage was shadow)
 * against those since (window 1). A drift over
 * the day shows up here too, which is why a holdback is the better control when traffic allows.
 */
async function selfBaselinePeriod(source: MetricSource, input: AnalyzeInput): Promise<Period> {
  const read = async (w: AnalysisWindow | undefined): Promise<FiguresByMetric> => {
    if (!w) return {};
    const f = await source.figures({
      tenantId: input.tenantId,
      model: input.model,
      versions: [input.challenger],
      // A shadow stage before promotion: the version scored every request there without serving it.
      role: w.mode === 'shadow' ? 'shadow' : 'served',
      from: new Date(w.from),
      to: new Date(w.to),
      histograms: binnedMetrics(input),
      moments: cappedMetrics(input),
    });
    return f[input.challenger] ?? {};
  };
  const [before, after] = await Promise.all([read(input.windows[0]), read(input.windows[1])]);
  // Weight 0: there is no traffic split between the two periods, so no sample-ratio check applies.
  return {
    champion: { figures: before, weight: 0 },
    challenger: { figures: after, weight: 0 },
    paired: false,
  };
}

/**
 * The metrics an analysis reads bins for: those of quantile guardrails and capped primary metrics. Every
 * continuous metric has bins, and reading them all made an analysis of a 10M-prediction window 13 times
 * slower (docs/ingestion.md).
 */
export function binnedMetrics(input: Pick<AnalyzeInput, 'policy'>): string[] {
  const names = new Set<string>(cappedMetrics(input));
  for (const g of input.policy.guardrails) if (g.quantile !== undefined) names.add(g.metric);
  return [...names].sort();
}

/** The metrics whose bins' moments an analysis reads: the capped ones (a quantile needs only counts). */
export function cappedMetrics(input: Pick<AnalyzeInput, 'policy'>): string[] {
  return input.policy.primaryMetric.filter((p) => p.cap !== undefined).map((p) => p.name);
}
