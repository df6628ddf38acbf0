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
    /** Each an interval (`1h`) or `{ cron, timezone }` (src/schedules/cadence.ts). */
    schedules: z
      .object({
        driftCheck: cadence('1h'),
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
