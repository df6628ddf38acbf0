/** Types shared by the experiment workflow, its activities, the client and the CLI (no runtime code). */

export const EXPERIMENT_STATES = [
  'proposed',
  'approved',
  'rejected',
  'in_progress',
  'shadow_testing',
  'completed',
] as const;
export type ExperimentState = (typeof EXPERIMENT_STATES)[number];

export const EXPERIMENT_TYPES = [
  'feature_engineering',
  'segmentation',
  'architecture',
  'hyperparameters',
  'data',
  'other',
] as const;
export const EXPERIMENT_DECISIONS = ['adopt', 'reject', 'partial_adopt'] as const;
export type ExperimentDecision = (typeof EXPERIMENT_DECISIONS)[number];

/** One segment of a (possibly segmented) model: its own Arena model with a challenger to test. */
export interface ExperimentSegment {
  segment: string;
  model: string;
  challenger: string;
}

export interface ExperimentInput {
  experimentId: string;
  tenantId: string;
  name: string;
  hypothesis: string;
  type: (typeof EXPERIMENT_TYPES)[number];
  expectedImprovement: number | null;
  proposer: string;
  segments: ExperimentSegment[];
  /** Rollout policy for adopted segments (default: the default policy). */
  rolloutPolicy?: Record<string, unknown>;
}

/** What shadow testing measured for one segment: the challenger against the champion on the same requests. */
export interface SegmentResult {
  segment: string;
  model: string;
  champion: string | null;
  challenger: string;
  metric: string;
  n: number;
  /** Mean per-request difference challenger − champion (negative = the challenger's error is lower). */
  meanDifference: number | null;
  ci: [number, number] | null;
  pValue: number | null;
  /** Relative change of the metric, (challenger − champion) / champion. */
  relative: number | null;
}

export interface ExperimentStatus {
  experimentId: string;
  name: string;
  state: ExperimentState;
  hypothesis: string;
  type: string;
  expectedImprovement: number | null;
  proposer: string;
  approver: string | null;
  segments: ExperimentSegment[];
  results: SegmentResult[] | null;
  decision: ExperimentDecision | null;
  adopted: string[];
  rationale: string | null;
  rollouts: Record<string, string>;
  history: Array<{ at: string; state: ExperimentState; by: string; note: string | null }>;
}

export interface CompleteInput {
  by: string;
  decision: ExperimentDecision;
  /** Segments to adopt (partial_adopt); adopt means all, reject none. */
  adopt?: string[];
  rationale: string;
}
