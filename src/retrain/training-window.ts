import { z } from 'zod';
import { parseDuration } from '../policy/duration.js';
import { calendarDate } from '../validation/calendar-date.js';

const DAY_MS = 86_400_000;

const days = z
  .string()
  .refine((t) => {
    const ms = parseDuration(t);
    return ms !== undefined && ms > 0 && ms % DAY_MS === 0;
  }, 'must be whole days, like 365d or 52w')
  .transform((t) => parseDuration(t)! / DAY_MS);

/**
 * The data a retrain trains and validates on, filling {trainFrom} {trainTo} {holdoutFrom} {holdoutTo} in the
 * training and validation commands. Fixed dates reproduce one experiment; a relative window (the holdout is
 * the last `holdout` days up to `end`, training the `train` days before it) is what a weekly retrain wants:
 * the most recent data, with the champion and the candidate compared on days neither trained on.
 */
export const trainingWindowSchema = z
  .object({
    trainFrom: calendarDate.optional(),
    trainTo: calendarDate.optional(),
    holdoutFrom: calendarDate.optional(),
    holdoutTo: calendarDate.optional(),
    relative: z
      .object({
        train: days,
        holdout: days,
        /** Last day of the holdout; default: the day before the job was created. */
        end: calendarDate.optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    const fixed = (['trainFrom', 'trainTo', 'holdoutFrom', 'holdoutTo'] as const).filter((k) => w[k]);
    if (w.relative && fixed.length > 0)
      ctx.addIssue({ code: 'custom', path: [fixed[0]!], message: 'give fixed dates or relative, not both' });
    else if (!w.relative && fixed.length < 4)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'needs trainFrom, trainTo, holdoutFrom and holdoutTo, or relative: { train, holdout }',
      });
    else if (!w.relative && (w.trainFrom! > w.trainTo! || w.holdoutFrom! > w.holdoutTo!))
      ctx.addIssue({ code: 'custom', path: [], message: 'each window must start on or before its end' });
  });

export type TrainingWindowConfig = z.output<typeof trainingWindowSchema>;

export interface TrainingWindow {
  trainFrom: string;
  trainTo: string;
  holdoutFrom: string;
  holdoutTo: string;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The job's concrete dates; `jobCreatedAt` anchors a relative window so retries of one job agree. */
export function resolveTrainingWindow(config: TrainingWindowConfig, jobCreatedAt: Date): TrainingWindow {
  const r = config.relative;
  if (!r)
    return {
      trainFrom: config.trainFrom!,
      trainTo: config.trainTo!,
      holdoutFrom: config.holdoutFrom!,
      holdoutTo: config.holdoutTo!,
    };
  const end = r.end
    ? Date.parse(`${r.end}T00:00:00Z`)
    : Date.parse(`${day(jobCreatedAt.getTime())}T00:00:00Z`) - DAY_MS;
  const holdoutFrom = end - (r.holdout - 1) * DAY_MS;
  const trainTo = holdoutFrom - DAY_MS;
  return {
    trainFrom: day(trainTo - (r.train - 1) * DAY_MS),
    trainTo: day(trainTo),
    holdoutFrom: day(holdoutFrom),
    holdoutTo: day(end),
  };
}
