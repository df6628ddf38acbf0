import { OTHER_SEGMENT } from '../ingest/limits.js';
import type { Policy } from '../policy/policy.js';
import { segmentMetric } from '../policy/segments.js';
import type { SegmentGatePolicy } from '../stats/gate/types.js';

/** The gate's segment check from a rollout policy: its metric's direction comes from the primary metric. */
export function segmentCheckPolicy(policy: Policy): SegmentGatePolicy | undefined {
  const s = policy.segments;
  const metric = segmentMetric(policy);
  const primary = policy.primaryMetric.find((m) => m.name === metric);
  if (!s || !metric || !primary) return undefined;
  return {
    metric,
    direction: primary.direction,
    minSamples: s.minSamples,
    margin: s.margin,
    onWorse: s.onWorse,
    otherSegment: OTHER_SEGMENT,
  };
}
