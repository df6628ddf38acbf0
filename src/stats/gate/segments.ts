/**
 * The per-segment consistency check (issue #20): no segment with enough samples may be significantly worse
 * under the challenger. Each segment's relative change is tested one-sided ("worse than the margin") with
 * the always-valid p-value of the gate's confidence sequences, so a rollout may look at every interval; the
 * p-values are Holm-adjusted across the segments tested, so the chance that any segment of an A/A rollout
 * is flagged stays at alpha however many segments and looks there are (bench `segments` measures it).
 *
 * This is the statistical core only: predictions do not carry segments yet and the gate does not call it
 * (docs/statistics.md, "Segments").
 */
import { holm } from '../multiple-testing.js';
import { sequentialPValue, sequentialRho } from '../sequential.js';
import { prepareEvidence, relativeSequence } from './evidence.js';
import type { AnalysisPolicy, Direction, IndependentEvidence, Interval, PairedEvidence } from './types.js';

export interface SegmentPolicy extends Pick<AnalysisPolicy, 'alpha' | 'tuningN' | 'minSamples'> {
  direction: Direction;
  /** Relative degradation tolerated before a segment counts as worse (0.02 = 2 % worse); default 0. */
  margin?: number;
}

export interface SegmentVerdict {
  segment: string;
  n: { champion: number; challenger: number };
  /** Tested: enough samples on both arms and a defined relative change. */
  tested: boolean;
  /** The relative change oriented so that positive is better, with its always-valid interval (forest plot). */
  improvement: number | null;
  interval: Interval | null;
  /** One-sided always-valid p-value of "worse than the margin", and after Holm across tested segments. */
  pValue: number | null;
  adjustedPValue: number | null;
  worse: boolean;
}

/**
 * Tests every segment. A segment with fewer than `minSamples` on an arm, or whose champion mean is 0, is
 * reported untested and never counts as worse (nor as fine: it is simply not judged).
 */
export function assessSegments(
  segments: ReadonlyArray<{ segment: string; evidence: IndependentEvidence | PairedEvidence }>,
  policy: SegmentPolicy,
): SegmentVerdict[] {
  const margin = policy.margin ?? 0;
  const rho = sequentialRho(policy.alpha, policy.tuningN);
  const sign = policy.direction === 'lower' ? -1 : 1;
  const verdicts = segments.map(({ segment, evidence }): SegmentVerdict => {
    const prep = prepareEvidence(`segments.${segment}`, evidence);
    const n = { champion: prep.nChampion, challenger: prep.nChallenger };
    const untested: SegmentVerdict = {
      segment,
      n,
      tested: false,
      improvement: null,
      interval: null,
      pValue: null,
      adjustedPValue: null,
      worse: false,
    };
    if (Math.min(n.champion, n.challenger) < policy.minSamples || 'undefined' in prep.relative)
      return untested;
    const rel = prep.relative;
    const cs = relativeSequence(rel, policy);
    const improvement = sign * rel.estimate;
    // H₀: the segment is at most `margin` worse; evidence against it is an improvement well below −margin.
    const distance = improvement + margin;
    const pValue =
      distance >= 0 ? 1 : rel.se === 0 ? 0 : sequentialPValue(distance / rel.se, rel.nTotal, rho);
    return {
      ...untested,
      tested: true,
      improvement,
      interval: sign > 0 ? cs.ci : [-cs.ci[1], -cs.ci[0]],
      pValue,
    };
  });
  const tested = verdicts.filter((v) => v.tested);
  const adjusted = tested.length ? holm(tested.map((v) => v.pValue!)) : [];
  tested.forEach((v, i) => {
    v.adjustedPValue = adjusted[i]!;
    v.worse = adjusted[i]! < policy.alpha;
  });
  return verdicts;
}
