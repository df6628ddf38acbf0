import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../registry/errors.js';
import { parseDuration } from './duration.js';

const duration = z.union([z.string(), z.number().nonnegative()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration (use e.g. 30s, 5m, 72h, 7d)` });
    return z.NEVER;
  }
  return ms;
});
const fraction = z.number().min(0).max(10);
const percent = z.number().gt(0, 'must be above 0').max(100, 'must be at most 100');

const metricName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'metric names are lower_snake_case');

const primaryMetricSchema = z
  .object({
    name: metricName,
    direction: z.enum(['lower', 'higher']),
    /** Relative improvement the challenger must show (0.02 = 2 %). */
    minImprovement: fraction.default(0.02),
    /** Relative degradation that rolls back at once (0.05 = 5 % worse). */
    rollbackRelativeDegradation: fraction.default(0.05),
  })
  .strict();

const guardrailSchema = z
  .object({
    metric: metricName,
    /** For histogram metrics (latency_ms): compare this quantile. */
    quantile: z.number().gt(0).lt(1).optional(),
    /** Absolute ceiling the challenger must stay under (error rate 0.001, p95 500 ms). */
    max: z.number().optional(),
    /** Relative increase over the champion allowed (0.2 = 20 %). */
    maxRelativeIncrease: fraction.optional(),
    /** Absolute value that rolls back at once. */
    rollbackAbove: z.number().optional(),
    /** Relative increase over the champion that rolls back at once (1.0 = doubled). */
    rollbackRelativeIncrease: fraction.optional(),
  })
  .strict()
  .refine(
    (g) =>
      g.max !== undefined ||
      g.maxRelativeIncrease !== undefined ||
      g.rollbackAbove !== undefined ||
      g.rollbackRelativeIncrease !== undefined,
    {
      message:
        'a guardrail needs at least one of max, maxRelativeIncrease, rollbackAbove, rollbackRelativeIncrease',
    },
  );

const stageSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('shadow'), duration }).strict(),
  z.object({ mode: z.literal('canary'), weight: percent, duration }).strict(),
]);

export const policySchema = z
  .object({
    approval: z
      .object({
        required: z.boolean().default(true),
        timeout: duration.prefault('48h'),
        approvers: z.array(z.string().min(1)).default([]),
        minApprovals: z.number().int().min(1).default(1),
        allowProposerApproval: z.boolean().default(false),
        /** Raise approval_expiring this long before the deadline. */
        warnBefore: duration.prefault('4h'),
      })
      .strict()
      .prefault({}),
    stages: z
      .array(stageSchema)
      .min(1, 'at least one stage')
      .prefault([
        { mode: 'shadow', duration: '72h' },
        { mode: 'canary', weight: 5, duration: '7d' },
        { mode: 'canary', weight: 50, duration: '24h' },
      ]),
    analysis: z
      .object({
        interval: duration.prefault('1m'),
        minSamples: z.number().int().min(2).default(1000),
        maxExtension: duration.prefault('24h'),
        alpha: z.number().gt(0).lt(0.5).default(0.05),
        tuningN: z.number().int().min(10).default(20_000),
      })
      .strict()
      .prefault({}),
    primaryMetric: z.union([primaryMetricSchema, z.array(primaryMetricSchema).min(1)]).default({
      name: 'abs_error',
      direction: 'lower',
      minImprovement: 0.02,
      rollbackRelativeDegradation: 0.05,
    }),
    guardrails: z.array(guardrailSchema).default([
      { metric: 'error', max: 0.001, rollbackAbove: 0.01 },
      { metric: 'latency_ms', quantile: 0.95, max: 500, rollbackRelativeIncrease: 1.0 },
      { metric: 'memory_mb', maxRelativeIncrease: 0.2, rollbackRelativeIncrease: 0.5 },
    ]),
    onInconclusive: z.enum(['ask', 'promote', 'rollback']).default('ask'),
    promotion: z
      .object({ requireApproval: z.boolean().default(false) })
      .strict()
      .prefault({}),
    watch: z
      .object({
        duration: duration.prefault('48h'),
        rollbackOnRelativeDegradation: fraction.default(0.05),
        /** Percent of traffic kept on the previous champion as a concurrent control during the watch. */
        holdback: z.number().min(0).max(50).default(0),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** A validated policy: durations in milliseconds, the primary metric always a list. */
export type Policy = Omit<z.output<typeof policySchema>, 'primaryMetric'> & {
  primaryMetric: PrimaryMetric[];
};
export type PrimaryMetric = z.output<typeof primaryMetricSchema>;
export type Guardrail = z.output<typeof guardrailSchema>;
export type Stage = z.output<typeof stageSchema>;
export type PolicyInput = z.input<typeof policySchema>;

/** Validates a policy object; the error names the field path and the value. */
export function parsePolicy(input: unknown): Policy {
  const parsed = policySchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String);
    const value = issue.path.reduce<unknown>(
      (v, k) => (v as Record<string, unknown> | undefined)?.[k as string],
      input,
    );
    throw new InvalidInputError(
      `policy.${path.join('.')}`,
      value,
      issue.message,
      'Fix the policy file; see docs/policies.md.',
    );
  }
  const p = parsed.data;
  return { ...p, primaryMetric: Array.isArray(p.primaryMetric) ? p.primaryMetric : [p.primaryMetric] };
}

/** Reads YAML or JSON text (YAML is a superset). */
export function parsePolicyText(text: string, source = 'policy'): Policy {
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new InvalidInputError(
      source,
      text.slice(0, 80),
      `not valid YAML or JSON: ${(err as Error).message}`,
    );
  }
  return parsePolicy(data);
}

export const DEFAULT_POLICY: Policy = parsePolicy({});
