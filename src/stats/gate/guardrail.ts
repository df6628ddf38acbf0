/**
 * Guardrails: limits on metrics where more is worse (errors, latency, memory). Limits on per-request values
 * are tested with always-valid confidence sequences, Holm-adjusted across every guardrail; quantile limits
 * are compared descriptively (guardrail-quantile.ts).
 */
import { StatsInputError } from '../errors.js';
import { confidenceSequence, sequentialPValue } from '../sequential.js';
import { prepareEvidence, relativeSequence, type PreparedEvidence } from './evidence.js';
import type { AbsoluteKind, RelativeKind } from './findings.js';
import { GuardrailBuilder, isPromotionLimit, settleGuardrails } from './guardrail-builder.js';
import { assessQuantileGuardrail } from './guardrail-quantile.js';
import { checkShape } from './skew-floor.js';
import type {
  AnalysisPolicy,
  GateInput,
  GuardrailPolicy,
  GuardrailVerdict,
  Interval,
  MetricEvidence,
} from './types.js';

export function evaluateGuardrails(
  policies: readonly GuardrailPolicy[],
  metrics: GateInput['metrics'],
  analysis: AnalysisPolicy,
  rho: number,
): GuardrailVerdict[] {
  const builders = policies.map((g, i) => {
    requireLimit(g, i);
    return assessGuardrail(g, metrics[g.metric], analysis, rho);
  });
  return settleGuardrails(builders, analysis.alpha);
}

/**
 * The policy schema requires a limit on every guardrail; policies built in code (see evaluateGate) are
 * checked here because a guardrail without one would have no checks and pass with nothing compared.
 */
function requireLimit(g: GuardrailPolicy, i: number): void {
  if (
    g.max === undefined &&
    g.maxRelativeIncrease === undefined &&
    g.rollbackAbove === undefined &&
    g.rollbackRelativeIncrease === undefined
  ) {
    throw new StatsInputError(`guardrails[${i}]`, g.metric, 'a guardrail needs at least one limit');
  }
}

function assessGuardrail(
  policy: GuardrailPolicy,
  evidence: MetricEvidence | undefined,
  analysis: AnalysisPolicy,
  rho: number,
): GuardrailBuilder {
  const builder = new GuardrailBuilder(policy);
  if (evidence === undefined) return builder;
  if (policy.quantile !== undefined || evidence.kind === 'quantile') {
    if (evidence.kind !== 'quantile' || policy.quantile === undefined) {
      throw new StatsInputError(
        `metrics.${policy.metric}`,
        evidence.kind,
        policy.quantile === undefined
          ? 'quantile evidence given for a guardrail without `quantile`'
          : `guardrail on quantile ${policy.quantile} needs quantile evidence`,
      );
    }
    assessQuantileGuardrail(builder, policy, policy.quantile, evidence, analysis.minSamples);
    return builder;
  }

  const prep = prepareEvidence(`metrics.${policy.metric}`, evidence);
  const judged = builder.observe(
    {
      analysis: prep.analysis,
      champion: { n: prep.nChampion, value: prep.champion.mean },
      challenger: { n: prep.nChallenger, value: prep.challenger.mean },
      sample: prep.sample,
    },
    analysis.minSamples,
  );
  if (!judged) return builder;
  const { shape, held } = checkShape(prep, analysis);
  builder.recordShape(shape);
  // A rate's level is tested against the limit's own binomial variance, estimated from nothing, so the
  // floor does not hold it back (docs/statistics.md, "Skewness-aware sample floor"); every other check
  // estimates a variance from the values and waits for the floor.
  const levelHeld = held !== undefined && !prep.proportion;
  if (held && (levelHeld || hasRelativeLimit(policy))) builder.holdForShape(held);
  const test: LimitTest = { builder, prep, analysis, rho };
  if (policy.max !== undefined && !levelHeld) testLevel(test, 'max', policy.max);
  if (policy.maxRelativeIncrease !== undefined && !held)
    testIncrease(test, 'maxRelativeIncrease', policy.maxRelativeIncrease);
  if (policy.rollbackAbove !== undefined && !levelHeld)
    testLevel(test, 'rollbackAbove', policy.rollbackAbove);
  if (policy.rollbackRelativeIncrease !== undefined && !held) {
    testIncrease(test, 'rollbackRelativeIncrease', policy.rollbackRelativeIncrease);
  }
  return builder;
}

function hasRelativeLimit(policy: GuardrailPolicy): boolean {
  return policy.maxRelativeIncrease !== undefined || policy.rollbackRelativeIncrease !== undefined;
}

interface LimitTest {
  builder: GuardrailBuilder;
  prep: PreparedEvidence;
  analysis: AnalysisPolicy;
  rho: number;
}

/** An absolute limit on the challenger's own level. */
function testLevel({ builder, prep, analysis, rho }: LimitTest, kind: AbsoluteKind, limit: number): void {
  const c = prep.challenger;
  // A proportion's limit is tested with the score test's null variance L(1−L)/n: with the sample variance,
  // zero errors in the first thousand requests would "prove" any limit at once.
  const se =
    prep.proportion && limit > 0 && limit < 1
      ? Math.sqrt((limit * (1 - limit)) / c.n)
      : Math.sqrt(c.variance / c.n);
  const cs = confidenceSequence({
    delta: c.mean,
    se,
    nTotal: c.n,
    alpha: analysis.alpha,
    tuningN: analysis.tuningN,
  });
  const p = c.mean <= limit ? 1 : se === 0 ? 0 : sequentialPValue((c.mean - limit) / se, c.n, rho);
  // A rate cannot leave [0, 1]; clamping the displayed interval changes no comparison with a limit inside it.
  const interval: Interval = prep.proportion ? [Math.max(0, cs.ci[0]), Math.min(1, cs.ci[1])] : cs.ci;
  builder.addTested(
    {
      code: 'level',
      kind,
      proportion: prep.proportion,
      estimate: c.mean,
      limit,
      interval,
      alpha: analysis.alpha,
      sample: prep.sample,
    },
    p,
  );
}

/** A limit on the challenger's relative increase over the champion. */
function testIncrease({ builder, prep, analysis, rho }: LimitTest, kind: RelativeKind, limit: number): void {
  if ('undefined' in prep.relative) {
    builder.addSettled({
      kind,
      limit,
      status: isPromotionLimit(kind) ? 'inconclusive' : 'pass',
      estimate: 0,
      finding: { code: 'increase-undefined', kind, limit, cause: prep.relative.undefined },
    });
    return;
  }
  const r = prep.relative;
  const cs = relativeSequence(r, analysis);
  const p =
    r.estimate <= limit ? 1 : r.se === 0 ? 0 : sequentialPValue((r.estimate - limit) / r.se, r.nTotal, rho);
  builder.addTested(
    {
      code: 'increase',
      kind,
      estimate: r.estimate,
      limit,
      interval: cs.ci,
      alpha: analysis.alpha,
      sample: prep.sample,
    },
    p,
  );
}
