import { z } from 'zod';
import { InvalidInputError } from '../errors.js';

/** How a model is backtested, from `models.metadata.backtest`. */
export const backtestConfigSchema = z.object({
  /** argv printing one JSON line per day {date, forecast, actual}; placeholders {artifact} {from} {to}. */
  command: z.array(z.string().min(1)).min(1),
  cwd: z.string().optional(),
  windowDays: z.number().int().min(1).max(90).default(7),
  lookbackDays: z.number().int().min(1).max(3650).default(90),
  /** The last day with actuals, for a fixed historical data set (the example's ends 2015-12-31). */
  dataEnd: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  /** The latest window's MAE this much above the version's holdout MAE is a degradation. */
  maxRelativeDegradation: z.number().positive().default(0.15),
  /** Start a retraining job (trigger degradation) when the model degrades. */
  retrain: z.boolean().default(true),
});
export type BacktestConfig = z.output<typeof backtestConfigSchema>;

export function parseBacktestConfig(value: unknown, source: string): BacktestConfig {
  const r = backtestConfigSchema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  let at: unknown = value;
  for (const k of issue.path) at = (at as Record<string | number, unknown> | undefined)?.[k as string];
  throw new InvalidInputError(`${source}.${issue.path.join('.')}`, at, issue.message);
}
