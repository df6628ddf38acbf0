/**
 * The rollout gate: from the champion's and the challenger's figures and a policy, decide whether the
 * challenger may be promoted, must be rolled back, needs more data, or whether the data are invalid.
 *
 * The workflow calls this at every analysis interval, so every decision rests on always-valid confidence
 * sequences (sequential.ts) — looking every minute cannot inflate the error rates. Fixed-horizon figures
 * are reported beside them for people, never used to decide. docs/statistics.md explains the rules.
 */
import { InsufficientDataError, StatsInputError, requireCount } from './errors.js';
import { liftAndSe } from './lift.js';
import { holm } from './multiple-testing.js';
import { normalQuantile, normalTails } from './normal.js';
import { confidenceSequence, sequentialPValue, sequentialRho } from './sequential.js';
import { SRM_ALPHA, srmTestStrata } from './srm.js';
import { combineStrata, type StratumEstimate } from './strata.js';
import { mergeSummaries, validateSummary, type Summary } from './summary.js';

/* ───────────────────────── policy (DESIGN.md §7) ───────────────────────── */

export type Direction = 'lower' | 'higher';

export interface PrimaryMetricPolicy {
  name: string;
  /** Which way is better: `lower` for errors (abs_error, ape), `higher` for accuracy. */
  direction: Direction;
  /** Relative improvement the challenger must demonstrably reach, e.g. 0.02 for 2%. */
  minImprovement: number;
  /** Roll back when the challenger is demonstrably worse by more than this (relative), e.g. 0.05. */
  rollbackRelativeDegradation?: number;
}

/** Limits are upper bounds: a guardrail metric is one where more is worse (errors, latency, memory). */
export interface GuardrailPolicy {
  metric: string;
  /** Absolute limit the challenger must stay below to be promoted (e.g. error rate 0.001, p95 500 ms). */
  max?: number;
  /** Set for quantile metrics (0.95 for p95): the evidence is then the observed quantile per arm. */
  quantile?: number;
  /** Relative limit against the champion (0.2: at most 20% above it) to be promoted. */
  maxRelativeIncrease?: number;
  /** Absolute level above which the challenger is rolled back. */
  rollbackAbove?: number;
  /** Relative increase over the champion above which the challenger is rolled back (1.0 = doubled). */
  rollbackRelativeIncrease?: number;
}

export interface AnalysisPolicy {
  /** Two-sided level of every confidence sequence (and of the Holm family of rollback triggers). */
  alpha: number;
  /** Observations per arm below which a metric is `waiting`, never failed. */
  minSamples: number;
  /** N* of the confidence sequence: the total sample size where it is tightest. */
  tuningN: number;
}

/** The parts of a rollout policy the gate reads; a whole policy object may be passed. */
export interface GatePolicy {
  primaryMetric: PrimaryMetricPolicy | readonly PrimaryMetricPolicy[];
  guardrails?: readonly GuardrailPolicy[];
  analysis: AnalysisPolicy;
}

/* ───────────────────────── evidence ───────────────────────── */

/** Successes (e.g. errors) out of n requests: a proportion metric. */
export interface Counts {
  successes: number;
  n: number;
}

export type ArmData = Summary | Counts;

export interface ArmPair {
  champion: ArmData;
  challenger: ArmData;
}

/** Independent arms (canary), one entry per period of constant traffic split; see combineStrata. */
export interface IndependentEvidence {
  kind: 'independent';
  strata: readonly ArmPair[];
}

/** Shadow mode: both versions scored the same requests. */
export interface PairedEvidence {
  kind: 'paired';
  /** Per-request differences challenger − champion. */
  difference: Summary;
  /** The champion's own values (its mean is the base of relative figures); counts for a rate. */
  champion: ArmData;
  /** The challenger's own values (absolute limits are checked on it); counts for a rate. */
  challenger: ArmData;
}

export interface QuantileObservation {
  n: number;
  value: number;
}

/** Observed quantiles (computed elsewhere from merged histograms); compared descriptively. */
export interface QuantileEvidence {
  kind: 'quantile';
  quantile: number;
  champion: QuantileObservation;
  challenger: QuantileObservation;
}

export type MetricEvidence = IndependentEvidence | PairedEvidence | QuantileEvidence;

export interface SrmInput {
  /** Units (or requests) observed per arm, in the same order as the weights. */
  observed: readonly number[];
  /** Intended split of the period, e.g. [0.95, 0.05]. */
  expectedWeights: readonly number[];
}

export interface GateInput {
  /** Evidence per metric name; a metric the policy names but that is missing here is `waiting`. */
  metrics: Readonly<Record<string, MetricEvidence | undefined>>;
  /** Sample-ratio check: one period, or one entry per stage (their chi-squares add up). */
  srm?: SrmInput | readonly SrmInput[];
}

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

/* ───────────────────────── verdicts ───────────────────────── */

export type VerdictStatus = 'pass' | 'fail' | 'inconclusive' | 'waiting';
export type Decision = VerdictStatus | 'invalid';
export type Action = 'promote' | 'rollback' | 'continue' | 'pause';
export type Interval = [number, number];

export interface ArmFigures {
  n: number;
  /** Mean (or rate, or observed quantile) of the arm; pooled across strata for display only. */
  value: number;
}

export interface PrimaryVerdict {
  metric: string;
  direction: Direction;
  status: VerdictStatus;
  analysis: 'independent' | 'paired';
  champion: ArmFigures;
  challenger: ArmFigures;
  /** Relative change of the challenger vs the champion, (challenger − champion)/|champion|. */
  estimate: number;
  se: number;
  /** Always-valid (1 − alpha) interval of `estimate`. */
  interval: Interval;
  /** Always-valid p-value for "no difference". */
  pValue: number;
  /** The same figures oriented so that positive means better. */
  improvement: { estimate: number; interval: Interval };
  minImprovement: number;
  /** The pass bar is out of reach: the interval lies below minImprovement. */
  futile: boolean;
  /** The degradation test against rollbackRelativeDegradation (adjustedPValue = pValue: not in the Holm family). */
  rollback?: { limit: number; pValue: number; adjustedPValue: number };
  /** Fixed-horizon normal (1 − alpha) interval and p-value, reported beside the sequential ones, never deciding. */
  fixedHorizon: { interval: Interval; pValue: number };
  strata: number;
  reason: string;
}

export type GuardrailCheckKind = 'max' | 'maxRelativeIncrease' | 'rollbackAbove' | 'rollbackRelativeIncrease';

export interface GuardrailCheck {
  kind: GuardrailCheckKind;
  limit: number;
  /** `absolute`: the challenger's level; `relative`: its increase over the champion. */
  scale: 'absolute' | 'relative';
  status: 'pass' | 'fail' | 'inconclusive';
  estimate: number;
  /** Always-valid interval of the estimate; null for descriptive (quantile) checks. */
  interval: Interval | null;
  /** Always-valid p-value for "within the limit" (small = breach); null when descriptive or undefined. */
  pValue: number | null;
  /** Holm-adjusted across every guardrail check of this analysis that carries a p-value. */
  adjustedPValue: number | null;
  reason: string;
}

export interface GuardrailVerdict {
  metric: string;
  status: VerdictStatus;
  analysis: 'independent' | 'paired' | 'quantile';
  quantile?: number;
  /** True for quantile guardrails: limits are compared with the observed values, without a test. */
  descriptive: boolean;
  champion: ArmFigures;
  challenger: ArmFigures;
  checks: GuardrailCheck[];
  reason: string;
}

export interface SrmVerdict {
  tested: boolean;
  chi2: number;
  df: number;
  pValue: number;
  observed: number[];
  expected: number[];
  mismatch: boolean;
  reason: string;
}

export interface GateResult {
  decision: Decision;
  action: Action;
  metrics: PrimaryVerdict[];
  guardrails: GuardrailVerdict[];
  srm: SrmVerdict | null;
  reasons: string[];
  alpha: number;
}

/* ───────────────────────── evaluation ───────────────────────── */

/** A guardrail check's breach test awaiting the Holm adjustment. */
interface Trigger {
  pValue: number;
  apply(adjusted: number): void;
}

/**
 * Decide. Order of precedence: a sample-ratio mismatch makes the data `invalid` (action pause) whatever the
 * metrics say; then any `fail` (action rollback); then any `waiting`; `pass` (action promote) needs every
 * primary metric and every guardrail to pass; otherwise `inconclusive` (action continue).
 */
export function evaluateGate(input: GateInput, policy: GatePolicy): GateResult {
  const analysis = checkAnalysis(policy.analysis);
  const primaries = Array.isArray(policy.primaryMetric)
    ? (policy.primaryMetric as readonly PrimaryMetricPolicy[])
    : [policy.primaryMetric as PrimaryMetricPolicy];
  if (primaries.length === 0)
    throw new StatsInputError('primaryMetric', primaries, 'needs at least one metric');
  const rho = sequentialRho(analysis.alpha, analysis.tuningN);
  const guardrailTriggers: Trigger[] = [];

  const metrics = primaries.map((p, i) =>
    evaluatePrimary(checkPrimary(p, i), input.metrics[p.name], analysis, rho),
  );
  const guardrails = (policy.guardrails ?? []).map((g, i) =>
    evaluateGuardrail(checkGuardrail(g, i), input.metrics[g.metric], analysis, rho, guardrailTriggers),
  );

  // Holm across the guardrail checks that may trigger a rollback: any single breach rolls back, so the
  // family-wise rate of false rollbacks from guardrails must stay at alpha however many there are. Each
  // primary metric's degradation test stands alone at alpha (primaries are few and decided jointly).
  const adjusted = holm(guardrailTriggers.map((t) => t.pValue));
  guardrailTriggers.forEach((t, i) => t.apply(adjusted[i]!));
  guardrails.forEach((g) => settleGuardrail(g));

  const srm = input.srm === undefined ? null : evaluateSrm(input.srm);

  const all: Array<{ status: VerdictStatus; reason: string }> = [...metrics, ...guardrails];
  let decision: Decision;
  let action: Action;
  const reasons: string[] = [];
  if (srm?.mismatch) {
    decision = 'invalid';
    action = 'pause';
    reasons.push(`Data invalid: ${srm.reason}. The rollout is paused until assignment or logging is fixed.`);
  } else if (all.some((v) => v.status === 'fail')) {
    decision = 'fail';
    action = 'rollback';
    reasons.push('Fail: roll back.');
  } else if (all.some((v) => v.status === 'waiting')) {
    decision = 'waiting';
    action = 'continue';
    reasons.push('Waiting for data: too few observations to judge (never counted as a failure).');
  } else if (all.every((v) => v.status === 'pass')) {
    decision = 'pass';
    action = 'promote';
    reasons.push('Pass: every primary metric reached its required improvement and every guardrail holds.');
  } else {
    decision = 'inconclusive';
    action = 'continue';
    reasons.push('Inconclusive: keep collecting data.');
  }
  const order: VerdictStatus[] = ['fail', 'waiting', 'inconclusive', 'pass'];
  for (const s of order) for (const v of all) if (v.status === s) reasons.push(v.reason);
  if (srm && !srm.mismatch) reasons.push(srm.reason);
  return { decision, action, metrics, guardrails, srm, reasons, alpha: analysis.alpha };
}

function checkAnalysis(a: AnalysisPolicy): AnalysisPolicy {
  if (a === null || typeof a !== 'object') throw new StatsInputError('analysis', a, 'is required');
  if (typeof a.alpha !== 'number' || !(a.alpha > 0 && a.alpha < 1)) {
    throw new StatsInputError('analysis.alpha', a.alpha, 'must lie strictly between 0 and 1');
  }
  if (typeof a.minSamples !== 'number' || !Number.isFinite(a.minSamples) || a.minSamples < 2) {
    throw new StatsInputError('analysis.minSamples', a.minSamples, 'must be a number ≥ 2');
  }
  if (typeof a.tuningN !== 'number' || !Number.isFinite(a.tuningN) || !(a.tuningN > 0)) {
    throw new StatsInputError('analysis.tuningN', a.tuningN, 'must be a finite number > 0');
  }
  return a;
}

function checkPrimary(p: PrimaryMetricPolicy, i: number): PrimaryMetricPolicy {
  const f = `primaryMetric[${i}]`;
  if (typeof p?.name !== 'string' || p.name === '')
    throw new StatsInputError(`${f}.name`, p?.name, 'is required');
  if (p.direction !== 'lower' && p.direction !== 'higher') {
    throw new StatsInputError(`${f}.direction`, p.direction, "must be 'lower' or 'higher'");
  }
  if (typeof p.minImprovement !== 'number' || !Number.isFinite(p.minImprovement)) {
    throw new StatsInputError(`${f}.minImprovement`, p.minImprovement, 'must be a finite number');
  }
  if (p.rollbackRelativeDegradation !== undefined) {
    nonNegative(`${f}.rollbackRelativeDegradation`, p.rollbackRelativeDegradation);
  }
  return p;
}

function checkGuardrail(g: GuardrailPolicy, i: number): GuardrailPolicy {
  const f = `guardrails[${i}]`;
  if (typeof g?.metric !== 'string' || g.metric === '') {
    throw new StatsInputError(`${f}.metric`, g?.metric, 'is required');
  }
  if (g.max !== undefined) finite(`${f}.max`, g.max);
  if (g.rollbackAbove !== undefined) finite(`${f}.rollbackAbove`, g.rollbackAbove);
  if (g.maxRelativeIncrease !== undefined) nonNegative(`${f}.maxRelativeIncrease`, g.maxRelativeIncrease);
  if (g.rollbackRelativeIncrease !== undefined) {
    nonNegative(`${f}.rollbackRelativeIncrease`, g.rollbackRelativeIncrease);
  }
  if (g.quantile !== undefined && !(g.quantile > 0 && g.quantile < 1)) {
    throw new StatsInputError(`${f}.quantile`, g.quantile, 'must lie strictly between 0 and 1');
  }
  if (
    g.max === undefined &&
    g.maxRelativeIncrease === undefined &&
    g.rollbackAbove === undefined &&
    g.rollbackRelativeIncrease === undefined
  ) {
    throw new StatsInputError(f, g.metric, 'a guardrail needs at least one limit');
  }
  return g;
}

function finite(field: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new StatsInputError(field, v, 'must be a finite number');
}

function nonNegative(field: string, v: number): void {
  finite(field, v);
  if (v < 0) throw new StatsInputError(field, v, 'must be ≥ 0');
}

function isCounts(a: ArmData): a is Counts {
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
    return { n: a.n, mean: p, variance: a.n > 1 ? (p * (1 - p) * a.n) / (a.n - 1) : 0 };
  }
  return validateSummary(field, a);
}

/** Everything the checks need about one metric, whatever the evidence kind. */
interface Prepared {
  analysis: 'independent' | 'paired';
  champion: Summary;
  challenger: Summary;
  /** All arms are proportions (counts): absolute limits use the score test's null variance. */
  proportion: boolean;
  /** Combined relative change and its se, or a reason it is undefined. */
  relative: { estimate: number; se: number; nTotal: number; strata: number } | { undefinedReason: string };
  /** Observations per arm used for the minSamples rule. */
  nChampion: number;
  nChallenger: number;
}

function prepare(field: string, evidence: IndependentEvidence | PairedEvidence): Prepared {
  if (evidence.kind === 'paired') {
    const d = validateSummary(`${field}.difference`, evidence.difference);
    const champion = armSummary(`${field}.champion`, evidence.champion);
    const challenger = armSummary(`${field}.challenger`, evidence.challenger);
    let relative: Prepared['relative'];
    if (d.n < 2) relative = { undefinedReason: 'fewer than 2 paired observations' };
    else if (champion.mean === 0)
      relative = { undefinedReason: 'the champion mean is 0, so a relative change is undefined' };
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
      nChampion: d.n,
      nChallenger: d.n,
    };
  }
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
  let relative: Prepared['relative'];
  if (usable.length === 0) {
    relative = {
      undefinedReason: zeroBase
        ? 'the champion mean is 0, so a relative change is undefined'
        : 'no period has 2 or more observations in both arms',
    };
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
    nChampion: champion.n,
    nChallenger: challenger.n,
  };
}

/* ── primary metrics ── */

function evaluatePrimary(
  policy: PrimaryMetricPolicy,
  evidence: MetricEvidence | undefined,
  analysis: AnalysisPolicy,
  rho: number,
): PrimaryVerdict {
  const name = policy.name;
  const better = policy.direction === 'lower' ? 'lower' : 'higher';
  const base: PrimaryVerdict = {
    metric: name,
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
    reason: `${name}: waiting for data: nothing recorded yet.`,
  };
  if (evidence === undefined) return base;
  if (evidence.kind === 'quantile') {
    throw new StatsInputError(
      `metrics.${name}`,
      evidence.kind,
      'a primary metric needs per-request values, not quantiles',
    );
  }
  const prep = prepare(`metrics.${name}`, evidence);
  base.analysis = prep.analysis;
  base.champion = { n: prep.nChampion, value: prep.champion.mean };
  base.challenger = { n: prep.nChallenger, value: prep.challenger.mean };
  const nText = nPerArm(prep);
  if (Math.min(prep.nChampion, prep.nChallenger) < analysis.minSamples) {
    base.reason = `${name}: waiting for data: ${nText}; ${analysis.minSamples} per arm needed.`;
    return base;
  }
  if ('undefinedReason' in prep.relative) {
    base.status = 'inconclusive';
    base.reason = `${name}: inconclusive: ${prep.relative.undefinedReason} (${nText}).`;
    return base;
  }
  const rel = prep.relative;
  const cs = confidenceSequence({
    delta: rel.estimate,
    se: rel.se,
    nTotal: rel.nTotal,
    alpha: analysis.alpha,
    tuningN: analysis.tuningN,
  });
  const sign = policy.direction === 'lower' ? -1 : 1;
  const improvement = sign * rel.estimate;
  const impInterval: Interval = sign > 0 ? [cs.ci[0], cs.ci[1]] : [-cs.ci[1], -cs.ci[0]];
  const zFixed = normalQuantile(1 - analysis.alpha / 2);
  base.estimate = rel.estimate;
  base.se = rel.se;
  base.interval = cs.ci;
  base.pValue = cs.pValue;
  base.improvement = { estimate: improvement, interval: impInterval };
  base.strata = rel.strata;
  base.fixedHorizon = {
    interval: [rel.estimate - zFixed * rel.se, rel.estimate + zFixed * rel.se],
    pValue:
      rel.se === 0
        ? rel.estimate === 0
          ? 1
          : 0
        : Math.min(1, 2 * normalTails(-Math.abs(rel.estimate / rel.se)).lower),
  };
  const level = pct(1 - analysis.alpha, 0);
  const summary =
    `${name} (${better} is better): challenger ${describeChange(improvement)}; ${level} always-valid interval of the ` +
    `improvement [${pct(impInterval[0])}, ${pct(impInterval[1])}], p = ${fmtP(cs.pValue)}; ${nText}`;

  base.status = impInterval[0] >= policy.minImprovement ? 'pass' : 'inconclusive';
  base.futile = impInterval[1] < policy.minImprovement;
  base.reason =
    base.status === 'pass'
      ? `${summary}. Pass: the interval clears the required ${pct(policy.minImprovement)} improvement.`
      : base.futile
        ? `${summary}. Inconclusive: the interval lies below the required ${pct(policy.minImprovement)}, so more data will not make it pass.`
        : `${summary}. Inconclusive: the interval does not yet clear the required ${pct(policy.minImprovement)}.`;

  const limit = policy.rollbackRelativeDegradation;
  if (limit !== undefined) {
    // H₀: degradation ≤ limit, i.e. improvement ≥ −limit; evidence against it is improvement well below −limit.
    const distance = improvement + limit;
    const p = distance >= 0 ? 1 : rel.se === 0 ? 0 : sequentialPValue(distance / rel.se, rel.nTotal, rho);
    base.rollback = { limit, pValue: p, adjustedPValue: p };
    if (p < analysis.alpha) {
      base.status = 'fail';
      base.reason =
        `${summary}. Fail: worse than the ${pct(limit)} degradation that triggers a rollback ` +
        `(p = ${fmtP(p)}).`;
    }
  }
  return base;
}

/* ── guardrails ── */

type CheckDraft = GuardrailCheck & { promotion: boolean };
type GuardrailDraft = GuardrailVerdict & { checks: CheckDraft[]; alpha: number; waiting: boolean };

function evaluateGuardrail(
  policy: GuardrailPolicy,
  evidence: MetricEvidence | undefined,
  analysis: AnalysisPolicy,
  rho: number,
  triggers: Trigger[],
): GuardrailDraft {
  const name =
    policy.quantile !== undefined ? `${policy.metric} p${trimNumber(policy.quantile * 100)}` : policy.metric;
  const draft: GuardrailDraft = {
    metric: policy.metric,
    status: 'waiting',
    analysis: policy.quantile !== undefined ? 'quantile' : 'independent',
    ...(policy.quantile !== undefined ? { quantile: policy.quantile } : {}),
    descriptive: policy.quantile !== undefined,
    champion: { n: 0, value: 0 },
    challenger: { n: 0, value: 0 },
    checks: [],
    reason: `${name}: waiting for data: nothing recorded yet.`,
    alpha: analysis.alpha,
    waiting: true,
  };
  if (evidence === undefined) return draft;

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
    return quantileGuardrail(policy, evidence, analysis, draft, name);
  }

  const prep = prepare(`metrics.${policy.metric}`, evidence);
  draft.analysis = prep.analysis;
  draft.champion = { n: prep.nChampion, value: prep.champion.mean };
  draft.challenger = { n: prep.nChallenger, value: prep.challenger.mean };
  const nText = nPerArm(prep);
  if (Math.min(prep.nChampion, prep.nChallenger) < analysis.minSamples) {
    draft.reason = `${name}: waiting for data: ${nText}; ${analysis.minSamples} per arm needed.`;
    return draft;
  }
  draft.waiting = false;
  const level = pct(1 - analysis.alpha, 0);
  const fmt = prep.proportion ? (v: number) => pct(v, 3) : fmtNum;

  const absolute = (kind: 'max' | 'rollbackAbove', limit: number): void => {
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
    addCheck(draft, triggers, {
      kind,
      limit,
      scale: 'absolute',
      estimate: c.mean,
      interval,
      pValue: p,
      promotion: kind === 'max',
      text:
        `${name}: challenger ${fmt(c.mean)} vs ${kind === 'max' ? 'limit' : 'rollback level'} ${fmt(limit)}; ` +
        `${level} always-valid interval [${fmt(interval[0])}, ${fmt(interval[1])}]; ${nText}`,
    });
  };

  const relative = (kind: 'maxRelativeIncrease' | 'rollbackRelativeIncrease', limit: number): void => {
    const label = kind === 'maxRelativeIncrease' ? 'allowed increase' : 'rollback increase';
    if ('undefinedReason' in prep.relative) {
      draft.checks.push({
        kind,
        limit,
        scale: 'relative',
        status: kind === 'maxRelativeIncrease' ? 'inconclusive' : 'pass',
        estimate: 0,
        interval: null,
        pValue: null,
        adjustedPValue: null,
        promotion: kind === 'maxRelativeIncrease',
        reason: `${name}: ${label} ${pct(limit)} cannot be checked: ${prep.relative.undefinedReason}.`,
      });
      return;
    }
    const r = prep.relative;
    const cs = confidenceSequence({
      delta: r.estimate,
      se: r.se,
      nTotal: r.nTotal,
      alpha: analysis.alpha,
      tuningN: analysis.tuningN,
    });
    const p =
      r.estimate <= limit ? 1 : r.se === 0 ? 0 : sequentialPValue((r.estimate - limit) / r.se, r.nTotal, rho);
    addCheck(draft, triggers, {
      kind,
      limit,
      scale: 'relative',
      estimate: r.estimate,
      interval: cs.ci,
      pValue: p,
      promotion: kind === 'maxRelativeIncrease',
      text:
        `${name}: challenger ${signedPct(r.estimate)} vs champion (${label} ${pct(limit)}); ` +
        `${level} always-valid interval [${signedPct(cs.ci[0])}, ${signedPct(cs.ci[1])}]; ${nText}`,
    });
  };

  if (policy.max !== undefined) absolute('max', policy.max);
  if (policy.maxRelativeIncrease !== undefined) relative('maxRelativeIncrease', policy.maxRelativeIncrease);
  if (policy.rollbackAbove !== undefined) absolute('rollbackAbove', policy.rollbackAbove);
  if (policy.rollbackRelativeIncrease !== undefined)
    relative('rollbackRelativeIncrease', policy.rollbackRelativeIncrease);
  return draft;
}

function addCheck(
  draft: GuardrailDraft,
  triggers: Trigger[],
  c: {
    kind: GuardrailCheckKind;
    limit: number;
    scale: 'absolute' | 'relative';
    estimate: number;
    interval: Interval;
    pValue: number;
    promotion: boolean;
    text: string;
  },
): void {
  const check: CheckDraft = {
    kind: c.kind,
    limit: c.limit,
    scale: c.scale,
    // Provisional; settleGuardrail applies the Holm-adjusted breach test.
    status: c.promotion ? (c.interval[1] < c.limit ? 'pass' : 'inconclusive') : 'pass',
    estimate: c.estimate,
    interval: c.interval,
    pValue: c.pValue,
    adjustedPValue: c.pValue,
    promotion: c.promotion,
    reason: c.text,
  };
  draft.checks.push(check);
  triggers.push({
    pValue: c.pValue,
    apply(adjusted) {
      check.adjustedPValue = adjusted;
    },
  });
}

function settleGuardrail(g: GuardrailVerdict): void {
  const draft = g as GuardrailDraft;
  const alpha = draft.alpha;
  if (!draft.waiting) {
    for (const c of draft.checks) {
      if (c.adjustedPValue !== null && c.adjustedPValue < alpha) c.status = 'fail';
      if (c.pValue !== null) {
        const verdict =
          c.status === 'fail'
            ? `Fail: beyond the limit (Holm-adjusted p = ${fmtP(c.adjustedPValue!)})`
            : c.status === 'pass'
              ? c.promotion
                ? 'Pass: within the limit'
                : `Holds: not shown beyond the rollback level (p = ${fmtP(c.pValue)})`
              : 'Inconclusive: the interval still reaches the limit';
        c.reason = `${c.reason}. ${verdict}.`;
      }
    }
    const statuses = draft.checks.map((c) => c.status);
    draft.status = statuses.includes('fail')
      ? 'fail'
      : statuses.every((s) => s === 'pass')
        ? 'pass'
        : 'inconclusive';
    // Lead with the checks that decided the status; a pass lists them all.
    const deciding = draft.checks.filter((c) => c.status === draft.status);
    draft.reason = (deciding.length > 0 ? deciding : draft.checks).map((c) => c.reason).join(' ');
  }
  delete (draft as Partial<GuardrailDraft>).alpha;
  delete (draft as Partial<GuardrailDraft>).waiting;
  for (const c of draft.checks) delete (c as Partial<CheckDraft>).promotion;
}

/**
 * Quantile guardrails (p95 latency) compare the observed quantiles, computed from merged log-bucket
 * histograms elsewhere, with the limits directly. This is descriptive: there is no standard error for a
 * histogram quantile here, so minSamples is the only protection against noise, and these checks stay out of
 * the Holm family.
 */
function quantileGuardrail(
  policy: GuardrailPolicy,
  evidence: QuantileEvidence,
  analysis: AnalysisPolicy,
  draft: GuardrailDraft,
  name: string,
): GuardrailDraft {
  if (Math.abs(evidence.quantile - policy.quantile!) > 1e-9) {
    throw new StatsInputError(
      `metrics.${policy.metric}.quantile`,
      evidence.quantile,
      `the guardrail is on quantile ${policy.quantile}`,
    );
  }
  for (const arm of ['champion', 'challenger'] as const) {
    const o = evidence[arm];
    if (typeof o?.n !== 'number' || !(o.n >= 0) || !Number.isFinite(o.n)) {
      throw new StatsInputError(`metrics.${policy.metric}.${arm}.n`, o?.n, 'must be a finite count ≥ 0');
    }
    if (typeof o.value !== 'number' || !Number.isFinite(o.value)) {
      throw new StatsInputError(`metrics.${policy.metric}.${arm}.value`, o.value, 'must be a finite number');
    }
  }
  const ch = evidence.challenger;
  const cp = evidence.champion;
  draft.analysis = 'quantile';
  draft.champion = { n: cp.n, value: cp.value };
  draft.challenger = { n: ch.n, value: ch.value };
  const nText = `n = ${ch.n} challenger / ${cp.n} champion`;
  if (Math.min(ch.n, cp.n) < analysis.minSamples) {
    draft.reason = `${name}: waiting for data: ${nText}; ${analysis.minSamples} per arm needed.`;
    return draft;
  }
  draft.waiting = false;
  const add = (
    kind: GuardrailCheckKind,
    limit: number,
    scale: 'absolute' | 'relative',
    estimate: number,
    text: string,
  ): void => {
    const breach = estimate > limit;
    const status = breach ? 'fail' : 'pass';
    draft.checks.push({
      kind,
      limit,
      scale,
      status,
      estimate,
      interval: null,
      pValue: null,
      adjustedPValue: null,
      promotion: kind === 'max' || kind === 'maxRelativeIncrease',
      reason: `${text} (descriptive comparison; ${nText}). ${breach ? 'Fail: above the limit' : 'Pass: within the limit'}.`,
    });
  };
  if (policy.max !== undefined)
    add(
      'max',
      policy.max,
      'absolute',
      ch.value,
      `${name}: challenger ${fmtNum(ch.value)} vs limit ${fmtNum(policy.max)}`,
    );
  if (policy.rollbackAbove !== undefined) {
    add(
      'rollbackAbove',
      policy.rollbackAbove,
      'absolute',
      ch.value,
      `${name}: challenger ${fmtNum(ch.value)} vs rollback level ${fmtNum(policy.rollbackAbove)}`,
    );
  }
  for (const kind of ['maxRelativeIncrease', 'rollbackRelativeIncrease'] as const) {
    const limit = policy[kind];
    if (limit === undefined) continue;
    if (!(cp.value > 0)) {
      draft.checks.push({
        kind,
        limit,
        scale: 'relative',
        status: kind === 'maxRelativeIncrease' ? 'inconclusive' : 'pass',
        estimate: 0,
        interval: null,
        pValue: null,
        adjustedPValue: null,
        promotion: kind === 'maxRelativeIncrease',
        reason: `${name}: relative limit cannot be checked: the champion's value is ${cp.value}.`,
      });
      continue;
    }
    const increase = ch.value / cp.value - 1;
    add(
      kind,
      limit,
      'relative',
      increase,
      `${name}: challenger ${fmtNum(ch.value)} vs champion ${fmtNum(cp.value)} (${signedPct(increase)}, limit ${pct(limit)})`,
    );
  }
  return draft;
}

/* ── SRM ── */

function evaluateSrm(srm: SrmInput | readonly SrmInput[]): SrmVerdict {
  const periods = (Array.isArray(srm) ? srm : [srm]) as readonly SrmInput[];
  const notTested = (why: string, observed: number[]): SrmVerdict => ({
    tested: false,
    chi2: 0,
    df: 0,
    pValue: 1,
    observed,
    expected: [],
    mismatch: false,
    reason: `Sample ratio not tested yet: ${why}.`,
  });
  let r: ReturnType<typeof srmTestStrata>;
  try {
    r = srmTestStrata(periods);
  } catch (e) {
    if (e instanceof InsufficientDataError) return notTested('a period has no units yet', []);
    throw e;
  }
  const observed = periods.flatMap((p) => [...p.observed]);
  // Pearson's chi-square approximation needs expected counts of about 5 or more.
  if (r.expected.some((e) => e < 5)) return notTested('fewer than 5 expected units in some arm', observed);
  const mismatch = r.pValue < SRM_ALPHA;
  const split = periods
    .map((p) => `[${p.observed.join(', ')}] for weights [${p.expectedWeights.join(', ')}]`)
    .join('; ');
  return {
    tested: true,
    chi2: r.chi2,
    df: r.df,
    pValue: r.pValue,
    observed,
    expected: r.expected,
    mismatch,
    reason: mismatch
      ? `sample-ratio mismatch: observed ${split}, χ² = ${fmtNum(r.chi2)} on ${r.df} df, p = ${fmtP(r.pValue)} < ${SRM_ALPHA}`
      : `Sample ratio consistent with the intended split (χ² = ${fmtNum(r.chi2)} on ${r.df} df, p = ${fmtP(r.pValue)}).`,
  };
}

/* ── formatting for the reasons a person reads ── */

function nPerArm(p: Prepared): string {
  return p.analysis === 'paired'
    ? `n = ${p.nChallenger} paired requests`
    : `n = ${p.nChallenger} challenger / ${p.nChampion} champion`;
}

function pct(v: number, digits = 2): string {
  return `${trimNumber(v * 100, digits)}%`;
}

function signedPct(v: number): string {
  return `${v > 0 ? '+' : ''}${pct(v)}`;
}

function describeChange(improvement: number): string {
  if (improvement === 0) return 'no different from the champion';
  return `${pct(Math.abs(improvement))} ${improvement > 0 ? 'better' : 'worse'} than the champion`;
}

function trimNumber(v: number, digits = 2): string {
  return String(Number(v.toFixed(digits)));
}

function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e6 || a < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

function fmtP(p: number): string {
  if (p === 0) return '0';
  return p < 1e-4 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}
