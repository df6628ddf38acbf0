import type { CapRecord } from '../analysis/cap-record.js';
import type { Policy } from '../policy/policy.js';
import type { Action, Decision } from '../stats/gate/types.js';

/** Types shared by the rollout workflow, its activities, the client wrapper and the CLI (no runtime code). */

export const ROLLOUT_STATES = [
  'proposed',
  'awaiting_approval',
  'shadow',
  'canary',
  'deciding',
  'promoting',
  'watching',
  'promoted',
  'rolling_back',
  'rolled_back',
  'rejected',
  'expired',
  'aborted',
] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export const FINAL_STATES: readonly RolloutState[] = [
  'promoted',
  'rolled_back',
  'rejected',
  'expired',
  'aborted',
];

export interface RolloutInput {
  rolloutId: string;
  tenantId: string;
  model: string;
  champion: string;
  challenger: string;
  policy: Policy;
  proposedBy: string;
  /** Continue-as-new past this many history events (default 4000; tests use a small one). */
  historyLimit?: number;
  /** The ended rollout this one retries (`arena rollout retry`). */
  retryOf?: string;
}

/** What one analysis concluded, with the numbers a person needs to see why. */
export interface AnalysisVerdict {
  seq: number;
  at: string;
  stageIndex: number;
  mode: 'shadow' | 'canary' | 'watch' | 'final';
  decision: Decision;
  action: Action;
  reasons: string[];
  /** The one-line reason used in decisions and alerts (what failed, or what passed). */
  summary: string;
  samples: { champion: number; challenger: number };
  primary?: { metric: string; estimate: number; ci: [number, number]; pValue: number } | undefined;
  /** The gate's full output (per metric and guardrail), stored in analyses.result. */
  details?: unknown;
  /** Capped primary metrics: each canary stage's cap, or why the metric was compared uncapped. */
  caps?: CapRecord[] | undefined;
  /**
   * Metric sources that failed in this analysis (unreachable, a query error, an ambiguous answer), each
   * with the guardrail and the reason: `analysis.consecutiveErrorLimit` analyses in a row with one pause
   * the rollout. Absent when every source answered (with data or without data yet).
   */
  sourceErrors?: string[] | undefined;
  /**
   * The gate passed with segments that are significantly worse, and the policy allows a partial adoption:
   * a promotion pins these values of the routing key to the previous champion (DESIGN.md §11).
   */
  partialAdoption?: { key: string; exclude: string[] } | undefined;
}

export interface RolloutEvent {
  seq: number;
  type: string;
  from: RolloutState | null;
  to: RolloutState | null;
  actor: string;
  reason: string | null;
  at: string;
}

export interface Approval {
  by: string;
  comment?: string | undefined;
  at: string;
}

export interface RolloutStatus {
  rolloutId: string;
  model: string;
  champion: string;
  challenger: string;
  state: RolloutState;
  paused: boolean;
  stage: {
    index: number;
    mode: 'shadow' | 'canary';
    weightBp: number;
    startedAt: string;
    endsAt: string;
  } | null;
  lastAnalysis: AnalysisVerdict | null;
  decision: string | null;
  approvals: Approval[];
  events: RolloutEvent[];
}

export interface ApproveInput {
  by: string;
  comment?: string;
  /** Roles the caller holds (from the gateway token or the CLI); `approver` may approve when no list is set. */
  roles?: string[];
}

export interface ActorInput {
  by: string;
  reason?: string;
}

/**
 * An abort: traffic returns to the champion and the version stays retryable (`arena rollout retry`), unless
 * `reject` marks it rejected, a final status.
 */
export interface AbortInput extends ActorInput {
  reject?: boolean;
}
