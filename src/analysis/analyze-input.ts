import type { Policy } from '../policy/policy.js';
import type { AnalysisVerdict } from '../rollout/types.js';

/** One period of a rollout whose traffic split stayed constant: a stage, or the watch after promotion. */
export interface AnalysisWindow {
  /** Stage index; `policy.stages.length` for the post-promotion watch window. */
  index: number;
  from: string;
  to: string;
  mode: 'shadow' | 'canary';
}

/** A window whose `to` is null ends at the moment of each analysis (the stage still running). */
export type WatchWindow = Omit<AnalysisWindow, 'to'> & { to: string | null };

/** What one analysis of a rollout compares: two versions of a model over its windows, under its policy. */
export interface AnalyzeInput {
  tenantId: string;
  rolloutId: string;
  seq: number;
  stageIndex: number;
  mode: AnalysisVerdict['mode'];
  model: string;
  champion: string;
  challenger: string;
  windows: AnalysisWindow[];
  policy: Policy;
}
