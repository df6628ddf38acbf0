import { z } from 'zod';
import { parseDuration } from '../policy/duration.js';
import { InvalidInputError } from '../errors.js';
import { cadence } from '../schedules/cadence.js';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((t) => parseDuration(t) !== undefined, 'must be a duration like 30m, 1h or 7d')
    .transform((t) => parseDuration(t)!);

/** How one model is watched, from `models.metadata.monitoring`; every field has the documented default. */
export const monitoringPolicySchema = z
  .object({
    drift: z
      .object({
        /** PSI above this on any monitored feature (or the predictions) is drift. */
        psiThreshold: z.number().positive().default(0.25),
        /** KS is reported beside PSI; with thousands of samples it flags tiny shifts, so it does not decide alone. */
        ksAlpha: z.number().gt(0).lt(1).default(0.01),
        recentWindow: duration('24h'),
        minSamples: z.number().int().positive().default(200),
        maxSamples: z.number().int().positive().default(5000),
        /** Start a retraining job (trigger drift) when drift is found. */
        retrain: z.boolean().default(true),
      })
      .prefault({}),
    performance: z
      .object({
        /** A classifier's accuracy (the `correct` metric from feedback) below this is a degradation. */
        accuracyFloor: z.number().gt(0).max(1).default(0.92),
        window: duration('7d'),
        minSamples: z.number().int().positive().default(200),
        /** Start a retraining job (trigger degradation) when accuracy falls below the floor. */
        retrain: z.boolean().default(true),
      })
      .prefault({}),
    /**
     * The live champion against its own baseline (src/monitoring/champion-tiers.ts). Defaults are the
     * promotion guidelines' tiers: accuracy 1 % / 3 % below the baseline, p95 latency 750 / 1,000 ms,
     * error rate 0.2 % / 0.5 %, and no drop beyond 1 % over 48 hours.
     */
    champion: z
      .object({
        /** The window each check reads, ending now. */
        window: duration('1h'),
        /** Fewer requests (or labelled predictions, for accuracy) in the window: not judged. */
        minSamples: z.number().int().positive().default(200),
        /** How much of the version's traffic before its promotion makes its baseline. */
        baselineWindow: duration('24h'),
        accuracy: z
          .object({
            /** `correct` (classifiers); a regressor names its own, e.g. `abs_error` with direction lower. */
            metric: z.string().min(1).default('correct'),
            direction: z.enum(['higher', 'lower']).default('higher'),
            /** Relative worsening against the baseline: 0.01 is 1 % worse. */
            warning: z.number().positive().default(0.01),
            critical: z.number().positive().default(0.03),
          })
          .strict()
          .prefault({})
          .refine((t) => t.critical >= t.warning, 'critical must be at least warning'),
        latency: z
          .object({
            quantile: z.number().gt(0).lt(1).default(0.95),
            warningMs: z.number().positive().default(750),
            criticalMs: z.number().positive().default(1000),
          })
          .strict()
          .prefault({})
          .refine((t) => t.criticalMs >= t.warningMs, 'criticalMs must be at least warningMs'),
        errorRate: z
          .object({
            warning: z.number().gt(0).max(1).default(0.002),
            critical: z.number().gt(0).max(1).default(0.005),
          })
          .strict()
          .prefault({})
          .refine((t) => t.critical >= t.warning, 'critical must be at least warning'),
        stability: z
          .object({
            window: duration('48h'),
            /** The accuracy metric over the stability window may not be worse than this (relative). */
            maxDrop: z.number().positive().default(0.01),
          })
          .strict()
          .prefault({}),
        /** Start a retraining job (trigger degradation) when accuracy breaches its critical tier. */
        retrainOnCritical: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /**
     * Raw predictions and feedback, kept by day (src/retention/plan.ts); rollups, analyses and decisions are
     * kept forever.
     */
    retention: z
      .object({
        /** How long after a prediction its actual may still arrive and count. */
        feedbackWindow: duration('7d').refine((ms) => ms <= 3650 * 86_400_000, 'must be at most 3650d'),
        /** Days raw rows are kept past the feedback window. */
        rawDays: z.number().int().min(1).max(3650).default(30),
      })
      .strict()
      .prefault({}),
    /** Each an interval (`1h`) or `{ cron, timezone }` (src/schedules/cadence.ts). */
    schedules: z
      .object({
        driftCheck: cadence('1h'),
        /** The champion monitor. */
        monitor: cadence('15m'),
        /** The latest backtest window (T-1). */
        backtest: cadence('24h'),
        /** The whole backtest lookback (90 days by default). */
        backtestFull: cadence('7d'),
        retrain: cadence('7d'),
        report: cadence('7d'),
      })
      .prefault({}),
  })
  .prefault({});

export type MonitoringPolicy = z.output<typeof monitoringPolicySchema>;

export function parseMonitoringPolicy(value: unknown, source = 'monitoring'): MonitoringPolicy {
  const parsed = monitoringPolicySchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  let at: unknown = value;
  for (const key of issue.path) at = (at as Record<string | number, unknown> | undefined)?.[key as string];
  throw new InvalidInputError(`${source}.${issue.path.join('.')}`, at, issue.message);
}
