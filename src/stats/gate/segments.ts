/**
 * The per-segment consistency check (issue #20): no segment with enough samples may be significantly worse
 * under the challenger. Each segment's relative change is tested one-sided ("worse than the margin") with
 * the always-valid p-value of the gate's confidence sequences, so a rollout may look at every interval; the
 * p-values are Holm-adjusted across the segments tested, so the chance that any segment of an A/A rollout
 * is flagged stays at alpha however many segments and looks there are (bench `segments` measures it).
 *
 * evaluateGate runs it when the policy has `segments` (checkSegments below); docs/statistics.md, "Segments".
 */
import { holm } from '../multiple-testing.js';
import { sequentialPValue, sequentialRho } from '../sequential.js';
import { prepareEvidence, relativeSequence } from './evidence.js';
import { pct } from './format.js';
import type {
  AnalysisPolicy,
  Direction,
  GateInput,
  IndependentEvidence,
  PairedEvidence,
  SegmentCheck,
  SegmentGatePolicy,
  SegmentVerdict,
} from './types.js';

export type { SegmentVerdict } from './types.js';

export interface SegmentPolicy extends Pick<AnalysisPolicy, 'alpha' | 'tuningN' | 'minSamples'> {
  direction: Direction;
  /** Relative degradation tolerated before a segment counts as worse (0.02 = 2 % worse); default 0. */
  margin?: number;
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

/**
 * The gate's segment check: `fail` when a segment is worse and the policy blocks (or the worse segment is
 * the rest of the traffic, which no routing override can leave out); otherwise `pass`, with the worse
 * segments to exclude from a partial adoption. No segment data: `waiting`, which holds a promotion.
 */
export function checkSegments(
  input: GateInput['segments'],
  policy: SegmentGatePolicy,
  analysis: Pick<AnalysisPolicy, 'alpha' | 'tuningN'>,
): SegmentCheck {
  const base = { metric: policy.metric, onWorse: policy.onWorse };
  if (!input?.length)
    return {
      ...base,
      status: 'waiting',
      reason: `segments: no per-segment ${policy.metric} recorded yet (predictions carry no segment).`,
      verdicts: [],
      worse: [],
      exclude: [],
    };
  const verdicts = assessSegments(input, {
    alpha: analysis.alpha,
    tuningN: analysis.tuningN,
    minSamples: policy.minSamples,
    direction: policy.direction,
    ...(policy.margin !== undefined ? { margin: policy.margin } : {}),
  });
  const worse = verdicts.filter((v) => v.worse);
  const tested = verdicts.filter((v) => v.tested).length;
  const names = worse
    .map((v) => `${v.segment} (${pct(v.improvement!)}, adjusted p = ${v.adjustedPValue!.toPrecision(2)})`)
    .join(', ');
  const blocks =
    worse.length > 0 && (policy.onWorse === 'block' || worse.some((v) => v.segment === policy.otherSegment));
  if (blocks)
    return {
      ...base,
      status: 'fail',
      reason:
        `segments: ${policy.metric} significantly worse under the challenger in ${names}` +
        (policy.onWorse === 'partial'
          ? `; ${policy.otherSegment} is the rest of the traffic, which a partial adoption cannot leave out.`
          : '.'),
      verdicts,
      worse: worse.map((v) => v.segment),
      exclude: [],
    };
  return {
    ...base,
    status: 'pass',
    reason: worse.length
      ? `segments: ${policy.metric} significantly worse in ${names}; a promotion leaves ${worse.length === 1 ? 'it' : 'them'} on the champion (partial adoption).`
      : `segments: none of ${tested} tested segment${tested === 1 ? '' : 's'} is significantly worse (${verdicts.length - tested} with too few samples).`,
    verdicts,
    worse: worse.map((v) => v.segment),
    exclude: worse.map((v) => v.segment),
  };
}
