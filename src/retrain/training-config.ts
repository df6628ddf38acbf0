import { RETRAIN_TRIGGERS } from './types.js';
import { z } from 'zod';
import { parseDuration } from '../policy/duration.js';
import { InvalidInputError } from '../errors.js';
import { trainingWindowSchema } from './training-window.js';
import { legacyValidationMetrics, type ValidationMetric } from './validation.js';

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .refine((t) => parseDuration(t) !== undefined, 'must be a duration like 30s, 5m or 2h')
    .transform((t) => parseDuration(t)!);

/** The retrain workflow's backstop for the training activity is 13 h; a job's own limit must fit inside it. */
const MAX_TRAINING_MS = 12 * 3_600_000;
const trainingTimeout = duration('30m').refine((ms) => ms <= MAX_TRAINING_MS, 'must be at most 12h');

const argv = z.array(z.string().min(1)).min(1, 'needs the program and its arguments');

/**
 * How Arena retrains one model, kept in `models.metadata.training`. Commands are argv arrays (never a shell)
 * whose `{placeholders}` Arena fills: training gets {model} {version} {out} {jobId}; validation gets
 * {candidate} {champion} (paths of the two artifacts, both verified against their digests first); both get
 * {trainFrom} {trainTo} {holdoutFrom} {holdoutTo} when a `window` is configured.
 */
export const trainingConfigSchema = z
  .object({
    backend: z.enum(['process', 'http']).default('process'),
    /** The dates the job trains and validates on (fixed, or relative to the job's creation). */
    window: trainingWindowSchema.optional(),
    /**
     * Per trigger, a window that replaces `window` for jobs of that trigger: e.g. a weekly `schedule` retrain
     * on the last year, a `drift` retrain on the last 90 days (recent data after a shift).
     */
    windows: z.partialRecord(z.enum(RETRAIN_TRIGGERS), trainingWindowSchema).optional(),
    process: z
      .object({
        command: argv,
        cwd: z.string().optional(),
        /** Extra environment variables for the job (added to the worker's). */
        env: z.record(z.string(), z.string()).default({}),
        /** A job that prints no progress line for longer than this is considered hung and killed. */
        heartbeatTimeout: duration('30s'),
        timeout: trainingTimeout,
      })
      .optional(),
    http: z
      .object({
        /**
         * POST {url} { model, version, jobId, params: { window? } } → { jobId };
         * GET {url}/{jobId} → { status, artifactUrl?, error?, progress? }.
         */
        url: z.string().url(),
        headers: z.record(z.string(), z.string()).default({}),
        pollInterval: duration('2s'),
        timeout: trainingTimeout,
      })
      .optional(),
    validate: z.object({
      /**
       * Prints one JSON object: { candidate: {mae, n, accuracy?, …}, champion: {…}, holdoutSha256,
       * forecastsSha256? }.
       */
      command: argv,
      cwd: z.string().optional(),
      /**
       * The figures a candidate is judged on, every one of which must pass: beat the champion's by
       * `minImprovement` (relative, in `direction`; 0 = not worse) and reach `floor` (the worst value
       * allowed). Absent: MAE `minImprovement` better, and accuracy at least `accuracyFloor` when reported.
       */
      metrics: z
        .array(
          z
            .object({
              name: z
                .string()
                .regex(
                  /^[A-Za-z][A-Za-z0-9_]{0,62}$/,
                  'the name of a figure the validation command reports, e.g. mae',
                ),
              direction: z.enum(['lower', 'higher']),
              minImprovement: z.number().min(0).max(10).optional(),
              floor: z.number().optional(),
            })
            .strict()
            .refine((m) => m.minImprovement !== undefined || m.floor !== undefined, {
              message: 'give minImprovement (0: not worse than the champion), a floor, or both',
            }),
        )
        .min(1)
        .optional(),
      minImprovement: z.number().min(0).max(1).default(0.05),
      accuracyFloor: z.number().min(0).max(1).default(0.85),
    }),
    rollout: z
      .object({
        /** The rollout policy for retrained candidates (default: the default policy). */
        policy: z.record(z.string(), z.unknown()).optional(),
        /** Scheduled and manual retrains start an already-approved rollout; drift and degradation never do. */
        autoApprove: z.boolean().default(true),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (!c[c.backend])
      ctx.addIssue({
        code: 'custom',
        path: [c.backend],
        message: `backend ${c.backend} needs its "${c.backend}" section`,
      });
  });

export type TrainingConfig = z.output<typeof trainingConfigSchema>;

/** The rules a candidate is validated by: the configured list, or the MAE and accuracy floors. */
export function validationRules(v: TrainingConfig['validate']): ValidationMetric[] {
  return v.metrics ? v.metrics.map((m) => ({ ...m, required: true })) : legacyValidationMetrics(v);
}
export type TrainingConfigInput = z.input<typeof trainingConfigSchema>;

export function parseTrainingConfig(value: unknown, source = 'training'): TrainingConfig {
  const parsed = trainingConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.join('.');
  let at: unknown = value;
  for (const key of issue.path) at = (at as Record<string | number, unknown> | undefined)?.[key as string];
  throw new InvalidInputError(`${source}${path ? `.${path}` : ''}`, at, issue.message);
}

/** Fills {placeholders}; an unknown one is an error rather than a literal brace passed to a program. */
export function fillCommand(command: string[], values: Record<string, string>): string[] {
  return command.map((arg) =>
    arg.replace(/\{(\w+)\}/g, (_, key: string) => {
      const v = values[key];
      if (v === undefined) throw new InvalidInputError('command', arg, `unknown placeholder {${key}}`);
      return v;
    }),
  );
}
