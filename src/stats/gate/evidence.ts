/**
 * Evidence for the gate: how callers build it (one period, stages, paired, quantiles) and how the gate reads
 * it — validated, counts turned into summaries, and the relative change combined across periods.
 */
import { StatsInputError, requireCount } from '../errors.js';
import { liftAndSe } from '../lift.js';
import { confidenceSequence } from '../sequential.js';
import { bernoulliSkewness } from '../shape.js';
import { combineStrata, type StratumEstimate } from '../strata.js';
import { mergeSummaries, validateSummary, type Summary } from '../summary.js';
import type { RelativeUndefined, SampleSize } from './findings.js';
import type {
  AnalysisPolicy,
  ArmData,
  ArmPair,
  Counts,
  IndependentEvidence,
  PairedEvidence,
  QuantileEvidence,
  QuantileObservation,
} from './types.js';

/** One period of independent arms. */
export function independent(champion: ArmData, challenger: ArmData): IndependentEvidence {
  return { kind: 'independent', strata: [{ champion, challenger }] };
}

/** Several periods (stages) of independent arms, combined by inverse-variance weights. */
export function stratified(strata: readonly ArmPair[]): IndependentEvidence {
  return { kind: 'independent', strata };
}

export function paired(difference: Summary, champion: ArmData, challenger: ArmData): PairedEvidence {
  return { kind: 'paired', difference, champion, challenger };
}

export function quantiles(
  quantile: number,
  champion: QuantileObservation,
  challenger: QuantileObservation,
): QuantileEvidence {
  return { kind: 'quantile', quantile, champion, challenger };
}

/** The challenger's relative change over the champion, combined across periods. */
export interface RelativeChange {
  estimate: number;
  se: number;
  nTotal: number;
  strata: number;
}

/** The always-valid interval of a relative change (primary metrics and relative guardrail limits alike). */
export function relativeSequence(
  rel: RelativeChange,
  analysis: Pick<AnalysisPolicy, 'alpha' | 'tuningN'>,
): ReturnType<typeof confidenceSequence> {
  return confidenceSequence({
    delta: rel.estimate,
    se: rel.se,
    nTotal: rel.nTotal,
    alpha: analysis.alpha,
    tuningN: analysis.tuningN,
  });
}

/** Everything the tests need about one metric of per-request values, whatever the evidence kind. */
export interface PreparedEvidence {
  analysis: 'independent' | 'paired';
  champion: Summary;
  challenger: Summary;
  /** All arms are proportions (counts): absolute limits use the score test's null variance. */
  proportion: boolean;
  /** Combined relative change and its se, or why it is undefined. */
  relative: RelativeChange | { undefined: RelativeUndefined };
  /**
   * The larger |skewness| of the values whose means are compared (each arm's, or the paired differences'),
   * over those whose shape is known; undefined when none is (rollups from before sums of cubes were kept).
   */
  skewness: number | undefined;
  /** Observations per arm used for the minSamples rule. */
  nChampion: number;
  nChallenger: number;
  sample: SampleSize;
}

export function isCounts(a: ArmData): a is Counts {
  return typeof a === 'object' && a !== null && 'successes' in a;
}

/** Counts become the summary of their 0/1 values (sample variance), so every test sees one shape. */
function armSummary(field: string, a: ArmData): Summary {
  if (isCounts(a)) {
    requireCount(`${field}.n`, a.n);
    requireCount(`${field}.successes`, a.successes);
    if (a.successes > a.n)
      throw new StatsInputError(`${field}.successes`, a.successes, `cannot exceed n (${a.n})`);
    if (a.n === 0) return { n: 0, mean: 0, variance: 0 };
    const p = a.successes / a.n;
    return {
      n: a.n,
      mean: p,
      variance: a.n > 1 ? (p * (1 - p) * a.n) / (a.n - 1) : 0,
      skewness: bernoulliSkewness(p),
    };
  }
  return validateSummary(field, a);
}

/** `field` names the metric in errors, e.g. `metrics.abs_error`. */
export function prepareEvidence(
  field: string,
  evidence: IndependentEvidence | PairedEvidence,
): PreparedEvidence {
  return evidence.kind === 'paired' ? preparePaired(field, evidence) : prepareIndependent(field, evidence);
}

function preparePaired(field: string, evidence: PairedEvidence): PreparedEvidence {
  const d = validateSummary(`${field}.difference`, evidence.difference);
  const champion = armSummary(`${field}.champion`, evidence.champion);
  const challenger = armSummary(`${field}.challenger`, evidence.challenger);
  let relative: PreparedEvidence['relative'];
  if (d.n < 2) relative = { undefined: 'too-few-pairs' };
  else if (champion.mean === 0) relative = { undefined: 'zero-champion-mean' };
  else {
    // The champion mean is treated as known: it is estimated on at least as many requests as the
    // differences, and its uncertainty is second order next to that of the mean difference.
    const base = Math.abs(champion.mean);
    relative = { estimate: d.mean / base, se: Math.sqrt(d.variance / d.n) / base, nTotal: d.n, strata: 1 };
  }
  return {
    analysis: 'paired',
    champion,
    challenger,
    proportion: isCounts(evidence.challenger),
    relative,
    skewness: largestSkewness([d]),
    nChampion: d.n,
    nChallenger: d.n,
    sample: { kind: 'paired', pairs: d.n },
  };
}

function prepareIndependent(field: string, evidence: IndependentEvidence): PreparedEvidence {
  if (!Array.isArray(evidence.strata) || evidence.strata.length === 0) {
    throw new StatsInputError(`${field}.strata`, evidence.strata, 'needs at least one period');
  }
  const pairs = evidence.strata.map((s, i) => ({
    champion: armSummary(`${field}.strata[${i}].champion`, s.champion),
    challenger: armSummary(`${field}.strata[${i}].challenger`, s.challenger),
  }));
  const proportion = evidence.strata.every((s) => isCounts(s.champion) && isCounts(s.challenger));
  const usable: StratumEstimate[] = [];
  let zeroBase = false;
  for (const p of pairs) {
    if (p.champion.n < 2 || p.challenger.n < 2) continue; // a period that has barely started carries no variance
    if (p.champion.mean === 0) {
      zeroBase = true;
      continue;
    }
    const { lift, se } = liftAndSe(p.champion, p.challenger);
    usable.push({ estimate: lift, se, n: p.champion.n + p.challenger.n });
  }
  let relative: PreparedEvidence['relative'];
  if (usable.length === 0) {
    relative = { undefined: zeroBase ? 'zero-champion-mean' : 'no-usable-period' };
  } else {
    const c = combineStrata(usable);
    relative = { estimate: c.estimate, se: c.se, nTotal: c.n, strata: usable.length };
  }
  const champion = mergeSummaries(...pairs.map((p) => p.champion));
  const challenger = mergeSummaries(...pairs.map((p) => p.challenger));
  return {
    analysis: 'independent',
    champion,
    challenger,
    proportion,
    relative,
    skewness: largestSkewness(pairs.flatMap((p) => [p.champion, p.challenger])),
    nChampion: champion.n,
    nChallenger: challenger.n,
    sample: { kind: 'arms', challenger: challenger.n, champion: champion.n },
  };
}

/**
 * Per period, not of the merged arm: a mixture of periods with different means looks skewed when no period
 * is, and the stratified estimate combines the periods' own means.
 */
function largestSkewness(parts: readonly Summary[]): number | undefined {
  let largest: number | undefined;
  for (const p of parts) {
    if (p.n === 0 || p.skewness === undefined) continue;
    largest = Math.max(largest ?? 0, Math.abs(p.skewness));
  }
  return largest;
}
