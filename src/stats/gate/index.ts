/** The rollout gate (DESIGN.md §7): evaluateGate, the evidence it reads, and the verdicts it returns. */
export { evaluateGate } from './evaluate.js';
export { independent, stratified, paired, quantiles } from './evidence.js';
export { assessSegments, type SegmentPolicy, type SegmentVerdict } from './segments.js';
export { summarizeGate } from './format.js';
export type {
  GatePolicy,
  PrimaryMetricPolicy,
  GuardrailPolicy,
  AnalysisPolicy,
  Direction,
  GateInput,
  MetricEvidence,
  IndependentEvidence,
  PairedEvidence,
  QuantileEvidence,
  QuantileObservation,
  ArmData,
  ArmPair,
  ArmFigures,
  Counts,
  SrmInput,
  GateResult,
  PrimaryVerdict,
  GuardrailVerdict,
  GuardrailCheck,
  GuardrailCheckKind,
  SrmVerdict,
  Decision,
  Action,
  VerdictStatus,
  Interval,
} from './types.js';
