/**
 * The rollout gate's inputs (the parts of a policy it reads, the evidence per metric) and its output (a
 * decision with one verdict per metric). Types only: src/rollout/types.ts imports Decision and Action from
 * here, and the workflow bundle must not pull in any runtime code through it.
 */
import type { Summary } from '../summary.js';

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
  /**
   * A mean is compared only once each arm has n ≥ skewnessFactor·s² observations, s the skewness of its
   * values (skew-floor.ts). Default 355 (Kohavi's rule); 0 turns the floor off.
   */
  skewnessFactor?: number;
}

/**
 * The parts of a rollout policy the gate reads; a whole policy object may be passed. The policy schema
 * (src/policy/policy.ts) validates them: evaluateGate re-checks only what it must (guardPolicy, evaluate.ts).
 */
export interface GatePolicy {
  primaryMetric: PrimaryMetricPolicy | readonly PrimaryMetricPolicy[];
  guardrails?: readonly GuardrailPolicy[];
  analysis: AnalysisPolicy;
  /**
   * The per-segment consistency check (segments.ts); absent: not checked. Named apart from a rollout
   * policy's `segments` (what the analysis reads), which it is built from.
   */
  segmentCheck?: SegmentGatePolicy;
}

/** What the gate does with the per-segment check (DESIGN.md §11). */
export interface SegmentGatePolicy {
  /** The metric compared within each segment (a primary metric), and which way is better. */
  metric: string;
  direction: Direction;
  /** Observations per arm a segment needs before it is judged. */
  minSamples: number;
  /** Relative degradation a segment may show before it counts as worse (0.02 = 2 % worse); default 0. */
  margin?: number;
  /**
   * `block`: a worse segment fails the gate (rollback). `partial`: the gate may still pass, and the
   * challenger is promoted everywhere but the worse segments (GateResult.segments.exclude).
   */
  onWorse: 'block' | 'partial';
  /**
   * The name of the segment that stands for the rest of the traffic (no single routing value): a partial
   * adoption cannot leave it out, so its being worse blocks even under `partial`.
   */
  otherSegment?: string;
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
  /** The segment metric's evidence per segment, for policy.segments. */
  segments?: ReadonlyArray<{ segment: string; evidence: IndependentEvidence | PairedEvidence }>;
  /** Sample-ratio check: one period, or one entry per stage (their chi-squares add up). */
  srm?: SrmInput | readonly SrmInput[];
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

/** The values' estimated skewness and the observations per arm it calls for (skew-floor.ts). */
export interface ShapeFigures {
  skewness: number;
  floor: number;
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
  /**
   * For a rate given as counts (accuracy, `correct`): the classic pooled two-proportion z-test on the counts
   * summed over every stratum, as a fixed-horizon A/B test reads it. Reported beside the sequential test,
   * never deciding: it is not valid under repeated looks, and pooling strata of different splits can mislead.
   */
  twoProportionZ?: { z: number; pValue: number; challenger: number; champion: number; n: [number, number] };
  strata: number;
  /** Present when the values' shape is known and the floor is on. */
  shape?: ShapeFigures;
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
  /** Present when the values' shape is known and the floor is on (never for quantile guardrails). */
  shape?: ShapeFigures;
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
  /** The decision's reason, then every verdict's, failures first; format.ts words them all. */
  reasons: string[];
  alpha: number;
  /** The per-segment check, when the policy asks for it. */
  segments?: SegmentCheck;
}

/** Every segment's verdict (a forest plot's rows), the worse ones, and what the gate made of them. */
export interface SegmentCheck {
  metric: string;
  onWorse: 'block' | 'partial';
  status: VerdictStatus;
  reason: string;
  verdicts: SegmentVerdict[];
  worse: string[];
  /** A partial adoption: the segments left on the champion when the challenger is promoted. */
  exclude: string[];
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
