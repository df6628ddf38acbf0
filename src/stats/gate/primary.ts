/**
 * A primary metric's verdict: the challenger passes when the always-valid interval of its relative
 * improvement clears minImprovement, and fails when a sequential test shows it worse than
 * rollbackRelativeDegradation. Fixed-horizon figures are reported beside them, never deciding.
 */
import { StatsInputError } from '../errors.js';
import { normalQuantile, normalTails } from '../normal.js';
import { sequentialPValue } from '../sequential.js';
import type { PrimaryComparison, PrimaryFinding } from './findings.js';
import { isCounts, prepareEvidence, relativeSequence } from './evidence.js';
import { twoProportionZTest } from '../proportion.js';
import { checkShape } from './skew-floor.js';
import { primaryReason } from './format.js';
import type {
  AnalysisPolicy,
  Interval,
  MetricEvidence,
  PrimaryMetricPolicy,
  PrimaryVerdict,
} from './types.js';

type PrimaryFigures = Omit<PrimaryVerdict, 'reason' | 'rollback'>;

export function evaluatePrimary(
  policy: PrimaryMetricPolicy,
  evidence: MetricEvidence | undefined,
  analysis: AnalysisPolicy,
  rho: number,
): PrimaryVerdict {
  const { figures, finding, rollback } = decidePrimary(policy, evidence, analysis, rho);
  // Key order is part of the stored JSON: the rollback test follows the reason.
  return { ...figures, reason: primaryReason(policy.name, finding), ...(rollback ? { rollback } : {}) };
}

function decidePrimary(
  policy: PrimaryMetricPolicy,
  evidence: MetricEvidence | undefined,
  analysis: AnalysisPolicy,
  rho: number,
): { figures: PrimaryFigures; finding: PrimaryFinding; rollback?: PrimaryVerdict['rollback'] } {
  const figures: PrimaryFigures = {
    metric: policy.name,
    direction: policy.direction,
    status: 'waiting',
    analysis: 'independent',
    champion: { n: 0, value: 0 },
    challenger: { n: 0, value: 0 },
    estimate: 0,
    se: 0,
    interval: [0, 0],
    pValue: 1,
    improvement: { estimate: 0, interval: [0, 0] },
    minImprovement: policy.minImprovement,
    futile: false,
    fixedHorizon: { interval: [0, 0], pValue: 1 },
    strata: 0,
  };
  if (evidence === undefined) return { figures, finding: { code: 'nothing-recorded' } };
  if (evidence.kind === 'quantile') {
    throw new StatsInputError(
      `metrics.${policy.name}`,
      evidence.kind,
      'a primary metric needs per-request values, not quantiles',
    );
  }
  const prep = prepareEvidence(`metrics.${policy.name}`, evidence);
  figures.analysis = prep.analysis;
  figures.champion = { n: prep.nChampion, value: prep.champion.mean };
  figures.challenger = { n: prep.nChallenger, value: prep.challenger.mean };
  // Reported whatever the gate's state (too few samples, a skewness hold): it is the seed's figure.
  const z = pooledTwoProportion(evidence);
  if (z) figures.twoProportionZ = z;
  if (Math.min(prep.nChampion, prep.nChallenger) < analysis.minSamples) {
    return {
      figures,
      finding: { code: 'too-few-samples', sample: prep.sample, minSamples: analysis.minSamples },
    };
  }
  const { shape, held } = checkShape(prep, analysis);
  if (shape) figures.shape = shape;
  if (held) return { figures, finding: held };
  if ('undefined' in prep.relative) {
    figures.status = 'inconclusive';
    return {
      figures,
      finding: { code: 'relative-undefined', cause: prep.relative.undefined, sample: prep.sample },
    };
  }
  const rel = prep.relative;
  const cs = relativeSequence(rel, analysis);
  const sign = policy.direction === 'lower' ? -1 : 1;
  const improvement = sign * rel.estimate;
  const impInterval: Interval = sign > 0 ? [cs.ci[0], cs.ci[1]] : [-cs.ci[1], -cs.ci[0]];
  const zFixed = normalQuantile(1 - analysis.alpha / 2);
  figures.estimate = rel.estimate;
  figures.se = rel.se;
  figures.interval = cs.ci;
  figures.pValue = cs.pValue;
  figures.improvement = { estimate: improvement, interval: impInterval };
  figures.strata = rel.strata;
  figures.fixedHorizon = {
    interval: [rel.estimate - zFixed * rel.se, rel.estimate + zFixed * rel.se],
    pValue:
      rel.se === 0
        ? rel.estimate === 0
          ? 1
          : 0
        : Math.min(1, 2 * normalTails(-Math.abs(rel.estimate / rel.se)).lower),
  };
  figures.status = impInterval[0] >= policy.minImprovement ? 'pass' : 'inconclusive';
  figures.futile = impInterval[1] < policy.minImprovement;
  const comparison: PrimaryComparison = {
    direction: policy.direction,
    alpha: analysis.alpha,
    improvement,
    interval: impInterval,
    pValue: cs.pValue,
    sample: prep.sample,
    minImprovement: policy.minImprovement,
  };
  let finding: PrimaryFinding = {
    code: figures.status === 'pass' ? 'pass' : figures.futile ? 'futile' : 'short',
    ...comparison,
  };

  const limit = policy.rollbackRelativeDegradation;
  if (limit === undefined) return { figures, finding };
  // H₀: degradation ≤ limit, i.e. improvement ≥ −limit; evidence against it is improvement well below −limit.
  const distance = improvement + limit;
  const p = distance >= 0 ? 1 : rel.se === 0 ? 0 : sequentialPValue(distance / rel.se, rel.nTotal, rho);
  if (p < analysis.alpha) {
    figures.status = 'fail';
    finding = { code: 'degraded', limit, rollbackPValue: p, ...comparison };
  }
  // adjustedPValue = pValue: each primary metric's degradation test stands alone (see evaluateGate).
  return { figures, finding, rollback: { limit, pValue: p, adjustedPValue: p } };
}

/** The seed's fixed-horizon test on counts pooled over strata; undefined unless every arm is counts. */
function pooledTwoProportion(evidence: MetricEvidence): PrimaryVerdict['twoProportionZ'] {
  if (evidence.kind !== 'independent') return undefined;
  let x1 = 0;
  let n1 = 0;
  let x2 = 0;
  let n2 = 0;
  for (const s of evidence.strata) {
    if (!isCounts(s.challenger) || !isCounts(s.champion)) return undefined;
    x1 += s.challenger.successes;
    n1 += s.challenger.n;
    x2 += s.champion.successes;
    n2 += s.champion.n;
  }
  if (n1 < 1 || n2 < 1) return undefined;
  const t = twoProportionZTest(x1, n1, x2, n2);
  return { z: t.z, pValue: t.pValue, challenger: t.p1, champion: t.p2, n: [n1, n2] };
}
