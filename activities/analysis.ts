import { analyze } from '../src/analysis/analyze.js';
import type { AnalyzeInput } from '../src/analysis/analyze-input.js';
import { rollupMetricSource } from '../src/analysis/rollup-source.js';
import type { AnalysisVerdict } from '../src/rollout/types.js';
import { storeAnalysis } from '../src/rollout/store.js';
import type { ActivityDeps } from './deps.js';
import { createStageWatch } from './stage-watch.js';

export type { AnalysisWindow, AnalyzeInput } from '../src/analysis/analyze-input.js';

/**
 * The analysis a rollout runs every interval (src/analysis/analyze.ts), on figures from rollups only (cost
 * independent of traffic). Idempotent: the verdict of (rollout, seq) is stored once, and a retry returns
 * the stored one.
 */
export function analysisActivities({ knex, rollupBucketMs, clock, metrics }: ActivityDeps) {
  const source = rollupMetricSource(knex, rollupBucketMs);
  async function analyzeRollout(input: AnalyzeInput): Promise<AnalysisVerdict> {
    // Verdicts have always been stamped with the wall clock, not deps.clock (which paces the stage watch).
    const verdict = await analyze(input, source, () => new Date());
    // Idempotent without a read first (a round trip per analysis, thousands a minute with many rollouts):
    // a retry whose verdict is already stored gets that one back, so the workflow sees what was recorded.
    const stored = await storeAnalysis(knex, input.tenantId, input.rolloutId, verdict);
    // Counted once: a retry gets the stored verdict back, not this one.
    if (stored === verdict) metrics?.analyses.inc({ mode: verdict.mode, decision: verdict.decision });
    return stored;
  }
  return {
    analyzeRollout,
    watchStage: createStageWatch({ analyze: analyzeRollout, now: () => clock().getTime() }),
  };
}
