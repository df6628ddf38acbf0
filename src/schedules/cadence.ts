import type { ScheduleSpec } from '@temporalio/client';
import { Cron } from 'croner';
import { z } from 'zod';
import { parseDuration } from '../policy/duration.js';

/**
 * How often a scheduled job runs: a fixed interval (`1h`, `7d`) or a cron expression at fixed times in a time
 * zone (`{ cron: '0 6 * * *', timezone: 'Europe/Berlin' }`), both as Temporal Schedules take them.
 */
export type Cadence = { every: number } | { cron: string; timezone: string };

/** Five fields (minute hour day-of-month month day-of-week): what Temporal's cron and people both read. */
export function cronProblem(expression: string, timezone: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5)
    return `must have 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  try {
    // croner only checks the expression here (paused: it never runs); Temporal computes the times.
    new Cron(expression, { paused: true, timezone });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return undefined;
  } catch {
    return 'is not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)';
  }
}

const cronCadence = z
  .strictObject({ cron: z.string(), timezone: z.string().default('UTC') })
  .superRefine((c, ctx) => {
    const tz = timezoneProblem(c.timezone);
    if (tz) ctx.addIssue({ code: 'custom', path: ['timezone'], message: tz, input: c.timezone });
    const cron = tz ? undefined : cronProblem(c.cron, c.timezone);
    if (cron) ctx.addIssue({ code: 'custom', path: ['cron'], message: cron, input: c.cron });
  })
  .transform((c): Cadence => ({ cron: c.cron.trim(), timezone: c.timezone }));

const intervalCadence = z
  .string()
  .refine(
    (t) => parseDuration(t) !== undefined,
    'must be a duration like 30m, 1h or 7d, or { cron, timezone }',
  )
  .transform((t): Cadence => ({ every: parseDuration(t)! }));

/**
 * A cadence field of a policy, `fallback` when left out. Dispatched on the input's type rather than a
 * union, so a wrong cron expression is reported at `…cron` with croner's reason, not as "invalid input".
 */
export const cadence = (fallback: string) =>
  z
    .unknown()
    .transform((value, ctx): Cadence => {
      const parsed = (typeof value === 'string' ? intervalCadence : cronCadence).safeParse(value);
      if (parsed.success) return parsed.data;
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: value });
      return z.NEVER;
    })
    .prefault(fallback);

export function toScheduleSpec(c: Cadence): ScheduleSpec {
  return 'every' in c
    ? { intervals: [{ every: c.every }] }
    : { cronExpressions: [c.cron], timezone: c.timezone };
}

/**
 * The arena seed's cadences: the T-1 backtest daily at 06:00, the 90-day backtest on Sundays at 04:00,
 * retraining on Sundays at 02:00, reports daily at 03:00; drift checks hourly (the seed sets no time).
 */
export function seedsPreset(
  timezone: string,
): Record<'driftCheck' | 'monitor' | 'backtest' | 'backtestFull' | 'retrain' | 'report', Cadence> {
  return {
    driftCheck: { every: 3_600_000 },
    monitor: { every: 900_000 },
    backtest: { cron: '0 6 * * *', timezone },
    backtestFull: { cron: '0 4 * * 0', timezone },
    retrain: { cron: '0 2 * * 0', timezone },
    report: { cron: '0 3 * * *', timezone },
  };
}
