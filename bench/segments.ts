import { simulateSegmentAa } from '../src/stats/simulate-segments.js';
import { benchResult, type BenchResult } from './result.js';

/**
 * The per-segment check's A/A false-positive rate (issue #20): 1,000 simulated rollouts with 20 segments
 * and 50 looks each, both arms equally accurate in every segment. The figure is the share of rollouts in
 * which some segment was flagged significantly worse at some look, Holm-adjusted across segments (must stay
 * at or below alpha = 0.05); the baseline is the same without the adjustment.
 */
export function runSegmentsBench(): Promise<BenchResult[]> {
  const r = simulateSegmentAa({ rollouts: 1000, segments: 20, looks: 50, seed: 20261203 });
  return Promise.resolve([
    benchResult(
      'segments_aa_false_positive_rate',
      r.adjusted,
      'share of rollouts',
      'each segment tested alone at alpha (no Holm)',
      r.unadjusted,
      '1,000 A/A rollouts, 20 segments (traffic shares 1/k, accuracy 0.60–0.95), 50 looks of 4,000 requests, one-sided always-valid test of "worse", alpha 0.05, minSamples 200',
    ),
  ]);
}
