import { parseDocument } from 'yaml';
import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { formatDuration, parseDuration } from './duration.js';
import { checkMetricSourceFields, metricSourceSchema, promqlTemplate } from './metric-sources.js';
import { checkSegmentPolicy, segmentPolicySchema } from './segments.js';

const SECOND_MS = 1_000;
const DAY_MS = 86_400_000;

/**
 * The bounds of every duration in a policy, in milliseconds (docs/policies.md). The smallest are what the
 * tests and the demo run the lifecycle with (an analysis every 200 ms, stages of 2 s); the largest keep a
 * typo (`7000d`) from starting a rollout that would never end.
 */
export const DURATION_BOUNDS = {
  'approval.timeout': { min: SECOND_MS, max: 365 * DAY_MS },
  'approval.warnBefore': { min: 0, max: 365 * DAY_MS },
  // Rollups are counted in whole buckets of at least a second: a shorter stage could never have data.
  'stages.duration': { min: SECOND_MS, max: 365 * DAY_MS },
  // How often the gate looks: more often than every 100 ms is a busy loop on the database.
  'analysis.interval': { min: 100, max: DAY_MS },
  'analysis.maxExtension': { min: 0, max: 365 * DAY_MS },
  'analysis.routingSettle': { min: 0, max: 3_600 * SECOND_MS },
  'watch.duration': { min: 0, max: 365 * DAY_MS },
  // The champion history a quantile cap is read from: rollups are kept per bucket, so at least a minute.
  'cap.lookback': { min: 60 * SECOND_MS, max: 90 * DAY_MS },
} as const satisfies Record<string, { min: number; max: number }>;

const shown = (ms: number): string => (Number.isSafeInteger(ms) && ms >= 0 ? formatDuration(ms) : `${ms}ms`);

/**
 * A duration as text (`30s`, `1h30m`) or a whole number of milliseconds, within [min, max]; the message of a
 * value out of bounds names the bound, e.g. "must be at least 100ms (got 0s)".
 */
const duration = ({ min, max }: { min: number; max: number }) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    let ms: number;
    if (typeof value === 'number') {
      if (!Number.isInteger(value)) {
        ctx.addIssue({
          code: 'custom',
          message: 'a number is taken as milliseconds and must be a whole number',
        });
        return z.NEVER;
      }
      ms = value;
    } else {
      const parsed = parseDuration(value);
      if (parsed === undefined) {
        ctx.addIssue({ code: 'custom', message: `not a duration (use e.g. 30s, 5m, 72h, 7d)` });
        return z.NEVER;
      }
      ms = parsed;
    }
    if (ms < min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${shown(min)} (got ${shown(ms)})` });
      return z.NEVER;
    }
    if (ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${shown(max)} (got ${shown(ms)})` });
      return z.NEVER;
    }
    return ms;
  });
const fraction = z.number().min(0).max(10);
const percent = z.number().gt(0, 'must be above 0').max(100, 'must be at most 100');

const metricName = z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'metric names are lower_snake_case');

/**
 * Opt-in capping of a primary metric in canary stages (src/analysis/capping.ts): every value above the cap
 * counts as the cap. `quantile`: the champion's quantile over `lookback` before each stage starts;
 * `value`: a fixed cap. Either is moved up to the histogram bin edge at or above it (at most 1 % more).
 */
const capSchema = z.union([
  z
    .object({
      quantile: z.number().gt(0.5, 'must be above 0.5: a cap trims the upper tail').lt(1),
      lookback: duration(DURATION_BOUNDS['cap.lookback']).prefault('7d'),
    })
    .strict(),
  z.object({ value: z.number().gt(0, 'must be above 0') }).strict(),
]);

const primaryMetricSchema = z
  .object({
    name: metricName,
    direction: z.enum(['lower', 'higher']),
    /** Relative improvement the challenger must show (0.02 = 2 %). */
    minImprovement: fraction.default(0.02),
    /** Relative degradation that rolls back at once (0.05 = 5 % worse). */
    rollbackRelativeDegradation: fraction.default(0.05),
    cap: capSchema.optional(),
    /**
     * A metric source of `metricSources` to read this metric from instead of Arena's rollups: a rate, as
     * events out of total (PromQL per arm), e.g. conversions out of requests. Only beside a primary
     * metric from Arena's rollups (docs/metric-sources.md).
     */
    source: z.string().min(1).optional(),
    events: promqlTemplate.optional(),
    total: promqlTemplate.optional(),
  })
  .strict();

const guardrailSchema = z
  .object({
    metric: metricName,
    /** For metrics recorded with a histogram (all but the 0/1 error, correct): compare this quantile. */
    quantile: z.number().gt(0).lt(1).optional(),
    /** Absolute ceiling the challenger must stay under (error rate 0.001, p95 500 ms). */
    max: z.number().optional(),
    /** Relative increase over the champion allowed (0.2 = 20 %). */
    maxRelativeIncrease: fraction.optional(),
    /** Absolute value that rolls back at once. */
    rollbackAbove: z.number().optional(),
    /** Relative increase over the champion that rolls back at once (1.0 = doubled). */
    rollbackRelativeIncrease: fraction.optional(),
    /** A metric source of `metricSources` to read this guardrail from instead of Arena's rollups. */
    source: z.string().min(1).optional(),
    /** Prometheus: PromQL for the events of a rate (errors), per arm; the rate is events / total. */
    events: promqlTemplate.optional(),
    /** Prometheus: PromQL for the total of a rate (requests), per arm. */
    total: promqlTemplate.optional(),
    /**
     * Prometheus, with `quantile`: PromQL for a histogram's cumulative bucket counts by `le`, per arm
     * (`sum by (le) (increase(…_bucket{…}[{{window}}]))`); limits are in the histogram's own unit.
     */
    buckets: promqlTemplate.optional(),
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
  z.object({ mode: z.literal('shadow'), duration: duration(DURATION_BOUNDS['stages.duration']) }).strict(),
  z
    .object({
      mode: z.literal('canary'),
      weight: percent,
      duration: duration(DURATION_BOUNDS['stages.duration']),
    })
    .strict(),
]);

export const policySchema = z
  .object({
    approval: z
      .object({
        required: z.boolean().default(true),
        timeout: duration(DURATION_BOUNDS['approval.timeout']).prefault('48h'),
        approvers: z.array(z.string().min(1)).default([]),
        minApprovals: z.number().int().min(1).default(1),
        allowProposerApproval: z.boolean().default(false),
        /** Raise approval_expiring this long before the deadline. */
        warnBefore: duration(DURATION_BOUNDS['approval.warnBefore']).prefault('4h'),
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
        interval: duration(DURATION_BOUNDS['analysis.interval']).prefault('1m'),
        minSamples: z.number().int().min(2).default(1000),
        maxExtension: duration(DURATION_BOUNDS['analysis.maxExtension']).prefault('24h'),
        alpha: z.number().gt(0).lt(0.5).default(0.05),
        tuningN: z.number().int().min(10).default(20_000),
        /** A mean is compared once each arm has n ≥ skewnessFactor·s² (Kohavi's 355); 0 turns the floor off. */
        skewnessFactor: z.number().min(0).max(100_000).default(355),
        /**
         * How long routers take to pick up a routing change (a cached table is revalidated every few
         * seconds). A split window's sample-ratio check counts from this long after the split changed, at
         * most a quarter of the window in, so requests a stale table decided do not read as a mismatch.
         */
        routingSettle: duration(DURATION_BOUNDS['analysis.routingSettle']).prefault('30s'),
        /**
         * Analyses in a row in which a metric source failed (unreachable, a query error, an ambiguous
         * answer) before the rollout pauses with a `metric_source_failing` alert and waits for a person.
         * Argo Rollouts' consecutiveErrorLimit, with its default.
         */
        consecutiveErrorLimit: z.number().int().min(1).max(10_000).default(4),
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
    metricSources: z
      .record(z.string().regex(/^[a-z][a-z0-9_-]{0,62}$/, 'source names are lower-case'), metricSourceSchema)
      .default({}),
    promotion: z
      .object({ requireApproval: z.boolean().default(false) })
      .strict()
      .prefault({}),
    segments: segmentPolicySchema.optional(),
    watch: z
      .object({
        duration: duration(DURATION_BOUNDS['watch.duration']).prefault('48h'),
        rollbackOnRelativeDegradation: fraction.default(0.05),
        /** Percent of traffic kept on the previous champion as a concurrent control during the watch. */
        holdback: z.number().min(0).max(50).default(0),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine(checkMetricSourceFields)
  .superRefine(checkSegmentPolicy);

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
    const issue = specificIssue(parsed.error.issues[0]!);
    const path = issue.path.map(String);
    const value = issue.path.reduce<unknown>(
      (v, k) => (v as Record<string, unknown> | undefined)?.[k as string],
      input,
    );
    throw new InvalidInputError(
      path.length ? `policy.${path.join('.')}` : 'policy',
      value,
      issue.message,
      'Fix the policy file; see docs/policies.md.',
    );
  }
  const p = parsed.data;
  return { ...p, primaryMetric: Array.isArray(p.primaryMetric) ? p.primaryMetric : [p.primaryMetric] };
}

type Issue = z.core.$ZodIssue;

/**
 * A union (the primary metric as one or a list, a cap by quantile or by value) reports only "Invalid input"
 * at its own path; the person needs the problem inside the branch they meant. That is taken to be the
 * branch whose issues are not about its shape as a whole (a wrong type or unknown keys at its root), and
 * then the one with the fewest issues.
 */
function specificIssue(
  issue: Issue,
  base: readonly PropertyKey[] = [],
): { path: PropertyKey[]; message: string } {
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { path, message: issue.message };
  const wrongShape = (branch: readonly Issue[]): number =>
    branch.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'unrecognized_keys'))
      ? 1
      : 0;
  const best = [...issue.errors]
    .filter((branch) => branch.length > 0)
    .sort((a, b) => wrongShape(a) - wrongShape(b) || a.length - b.length)[0];
  return best ? specificIssue(best[0]!, path) : { path, message: issue.message };
}

/** Reads YAML or JSON text (YAML is a superset). */
export function parsePolicyText(text: string, source = 'policy'): Policy {
  let data: unknown;
  try {
    // A warning (an unknown tag such as `!dur 5m`) would otherwise be printed to stderr and the value taken
    // as plain text; in a policy it is a mistake, so it is refused like an error.
    const doc = parseDocument(text, { logLevel: 'silent' });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw problem;
    data = doc.toJS();
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
