import { OTHER_SEGMENT } from '../ingest/limits.js';
import { segmentMetric } from '../policy/segments.js';
import type { ArmData, IndependentEvidence, PairedEvidence } from '../stats/gate/index.js';
import { summaryFromSums } from '../stats/summary.js';
import type { AnalysisWindow, AnalyzeInput } from './analyze-input.js';
import type { MetricSource } from './metric-source.js';
import { PROPORTION_METRICS } from './recorded-metrics.js';
import { addSegmentSums, EMPTY_SEGMENT_SUMS, type SegmentSums } from './segment-reader.js';

/** One segment's sums in one window, per arm. */
interface SegmentPeriod {
  paired: boolean;
  champion: SegmentSums;
  challenger: SegmentSums;
}

export interface SegmentEvidence {
  segments: Array<{ segment: string; evidence: IndependentEvidence | PairedEvidence }>;
  /** Why no segment could be read, when none could. */
  note?: string;
}

/**
 * The per-segment evidence of the policy's segment metric over the analysis' windows, as buildEvidence
 * builds the pooled one: paired where a shadow window scored both versions on the same requests, else one
 * stratum per canary window. The top `segments.top` segments by traffic over all windows are kept; every
 * other one is merged into "(other)". Undefined when the policy has no segment check or the analysis is a
 * watch (after a partial adoption the worse segments are served by the old champion on both sides).
 */
export async function readSegmentEvidence(
  source: MetricSource,
  input: AnalyzeInput,
): Promise<SegmentEvidence | undefined> {
  const policy = input.policy.segments;
  const metric = segmentMetric(input.policy);
  if (!policy || metric === undefined || input.mode === 'watch') return undefined;
  if (!source.segments)
    return { segments: [], note: 'segments: the metric source keeps no per-segment figures' };
  const read = source.segments.bind(source);
  const windows = await Promise.all(
    input.windows.map(async (w: AnalysisWindow) => {
      const base = {
        tenantId: input.tenantId,
        model: input.model,
        metric,
        from: new Date(w.from),
        to: new Date(w.to),
      };
      if (w.mode === 'shadow') {
        const [c, t] = await Promise.all([
          read({ ...base, versions: [input.champion], role: 'served' }),
          read({ ...base, versions: [input.challenger], role: 'shadow' }),
        ]);
        return { paired: true, champion: c[input.champion] ?? {}, challenger: t[input.challenger] ?? {} };
      }
      const both = await read({ ...base, versions: [input.champion, input.challenger], role: 'served' });
      return {
        paired: false,
        champion: both[input.champion] ?? {},
        challenger: both[input.challenger] ?? {},
      };
    }),
  );
  const traffic = new Map<string, number>();
  for (const w of windows)
    for (const arm of [w.champion, w.challenger])
      for (const [segment, s] of Object.entries(arm))
        traffic.set(segment, (traffic.get(segment) ?? 0) + s.count);
  const kept = new Set(
    [...traffic.entries()]
      .filter(([segment]) => segment !== OTHER_SEGMENT)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, policy.top)
      .map(([segment]) => segment),
  );
  const name = (segment: string): string => (kept.has(segment) ? segment : OTHER_SEGMENT);
  const bySegment = new Map<string, SegmentPeriod[]>();
  windows.forEach((w, i) => {
    for (const side of ['champion', 'challenger'] as const)
      for (const [segment, s] of Object.entries(w[side])) {
        const key = name(segment);
        let periods = bySegment.get(key);
        if (!periods) {
          periods = windows.map((x) => ({
            paired: x.paired,
            champion: EMPTY_SEGMENT_SUMS,
            challenger: EMPTY_SEGMENT_SUMS,
          }));
          bySegment.set(key, periods);
        }
        periods[i]![side] = addSegmentSums(periods[i]![side], s);
      }
  });
  const segments = [...bySegment.entries()]
    .map(([segment, periods]) => ({ segment, evidence: evidenceOf(metric, periods) }))
    .filter((s): s is { segment: string; evidence: IndependentEvidence | PairedEvidence } => !!s.evidence)
    .sort((a, b) => (traffic.get(b.segment) ?? 0) - (traffic.get(a.segment) ?? 0));
  return { segments };
}

function armData(metric: string, s: SegmentSums): ArmData {
  return PROPORTION_METRICS.has(metric)
    ? { successes: Math.round(s.sum), n: s.count }
    : summaryFromSums(s.count, s.sum, s.sumSq);
}

function evidenceOf(
  metric: string,
  periods: readonly SegmentPeriod[],
): IndependentEvidence | PairedEvidence | undefined {
  const shadow = periods.find((p) => p.paired && p.challenger.pairedCount > 0);
  if (shadow)
    return {
      kind: 'paired',
      difference: summaryFromSums(
        shadow.challenger.pairedCount,
        shadow.challenger.pairedSum,
        shadow.challenger.pairedSumSq,
      ),
      champion: armData(metric, shadow.champion),
      challenger: armData(metric, shadow.challenger),
    };
  const strata = periods
    .filter((p) => !p.paired && p.champion.count > 0 && p.challenger.count > 0)
    .map((p) => ({ champion: armData(metric, p.champion), challenger: armData(metric, p.challenger) }));
  return strata.length ? { kind: 'independent', strata } : undefined;
}
