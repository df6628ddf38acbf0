import { z } from 'zod';

/**
 * The policy's per-segment consistency check (DESIGN.md §11, docs/policies.md "Segments"). Absent: no
 * check. Predictions name their segment in `segment`; `key` is the routing segment key carrying the same
 * values, which a partial adoption pins to the champion for the worse segments.
 */
export const segmentPolicySchema = z
  .object({
    /** The routing segment key (`arena routing pin --key`), required for a partial adoption. */
    key: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'letters, digits, _ . - (at most 100)')
      .optional(),
    /** The metric compared within each segment; default: the first primary metric. */
    metric: z.string().min(1).optional(),
    /** The segments an analysis judges: the top K of its window by traffic; the rest are one, "(other)". */
    top: z.number().int().min(1).max(100).default(20),
    /** Observations per arm before a segment is judged. */
    minSamples: z.number().int().min(2).default(200),
    /** Relative degradation a segment may show before it counts as worse (0.02: 2 % worse). */
    margin: z.number().min(0).max(1).default(0),
    /** What a worse segment does: `block` fails the gate; `partial` promotes everywhere else. */
    onWorse: z.enum(['block', 'partial']).default('block'),
  })
  .strict();

export type SegmentPolicy = z.output<typeof segmentPolicySchema>;

interface PolicyFields {
  segments?: SegmentPolicy | undefined;
  primaryMetric:
    | { name: string; source?: string | undefined }
    | ReadonlyArray<{ name: string; source?: string | undefined }>;
}

/** The segment metric is one of the primary metrics Arena records; a partial adoption names its key. */
export function checkSegmentPolicy(p: PolicyFields, ctx: z.RefinementCtx): void {
  const s = p.segments;
  if (!s) return;
  const primaries = Array.isArray(p.primaryMetric) ? p.primaryMetric : [p.primaryMetric];
  const recorded = primaries.filter((m) => m.source === undefined).map((m) => m.name);
  const metric = s.metric ?? primaries[0]!.name;
  if (metric === 'error' || metric === 'latency_ms')
    ctx.addIssue({
      code: 'custom',
      path: ['segments', 'metric'],
      message: `${metric} is not kept per segment (it is a guardrail, judged pooled); compare an outcome or a named metric`,
    });
  else if (!recorded.includes(metric))
    ctx.addIssue({
      code: 'custom',
      path: ['segments', 'metric'],
      message: `must be a primary metric from Arena's records (${recorded.join(', ') || 'none'}); got ${metric}`,
    });
  if (s.onWorse === 'partial' && s.key === undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['segments', 'key'],
      message: 'a partial adoption pins the worse segments by routing key: name the key (e.g. origin)',
    });
}

/** The metric the check compares: `segments.metric`, else the first primary metric. */
export function segmentMetric(p: {
  segments?: SegmentPolicy | undefined;
  primaryMetric: ReadonlyArray<{ name: string }>;
}): string | undefined {
  return p.segments ? (p.segments.metric ?? p.primaryMetric[0]!.name) : undefined;
}
