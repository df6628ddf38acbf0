/**
 * Arena's statistics engine (DESIGN.md §5): pure functions, no I/O. Every function returns defined numbers
 * or throws a typed error (errors.ts); docs/statistics.md gives the definitions and the gate's rules.
 */
export { StatsInputError, InsufficientDataError, StatsNumericError } from './errors.js';
export {
  type Summary,
  type Sample,
  summarize,
  summaryFromSums,
  mergeSummaries,
  SummaryAccumulator,
} from './summary.js';
export { normalCdf, normalSf, normalPdf, normalQuantile } from './normal.js';
export { studentTCdf, studentTSf, studentTPdf, studentTQuantile } from './student-t.js';
export { chiSquareCdf, chiSquareSf } from './chi-square.js';
export { welchTTest, type Alternative, type WelchOptions, type WelchResult } from './welch.js';
export { pairedTTest, pairedDifferenceTest, type PairedResult, type PairedOptions } from './paired.js';
export { twoProportionZTest, type TwoProportionResult } from './proportion.js';
export { srmTest, srmTestStrata, SRM_ALPHA, type SrmResult } from './srm.js';
export { mannWhitneyU, type MannWhitneyResult } from './mann-whitney.js';
export { ksTwoSample, kolmogorovSf, type KsResult } from './ks.js';
export { psi, type PsiOptions } from './psi.js';
export {
  categoricalDrift,
  OTHER,
  UNSEEN,
  type CategoricalDrift,
  type CategoricalDriftOptions,
} from './categorical-drift.js';
export { relativeLift, type LiftResult } from './lift.js';
export { bucketQuantile, addCumulativeBuckets, type CumulativeBucket } from './bucket-quantile.js';
export {
  confidenceSequence,
  sequentialRho,
  sequentialZ,
  type ConfidenceSequenceInput,
  type ConfidenceSequenceResult,
} from './sequential.js';
export { holm, benjaminiHochberg } from './multiple-testing.js';
export {
  sampleSizePerGroup,
  minimumDetectableEffect,
  stageDuration,
  type SampleSizeInput,
  type StageDurationInput,
  type StageDuration,
  type SampleRequirement,
} from './sample-size.js';
export { combineStrata, type StratumEstimate, type CombinedEstimate } from './strata.js';
export {
  evaluateGate,
  independent,
  stratified,
  paired,
  quantiles,
  type GatePolicy,
  type PrimaryMetricPolicy,
  type GuardrailPolicy,
  type AnalysisPolicy,
  type Direction,
  type GateInput,
  type MetricEvidence,
  type IndependentEvidence,
  type PairedEvidence,
  type QuantileEvidence,
  type QuantileObservation,
  type ArmData,
  type ArmPair,
  type Counts,
  type SrmInput,
  type GateResult,
  type PrimaryVerdict,
  type GuardrailVerdict,
  type GuardrailCheck,
  type GuardrailCheckKind,
  type SrmVerdict,
  type Decision,
  type Action,
  type VerdictStatus,
  type Interval,
} from './gate/index.js';
export { createRng, mulberry32, xoshiro128, type Rng } from './random.js';
