import { z } from 'zod';
import { parseVersion } from '../registry/version.js';

/** Metric names computed by Arena itself; recorded named metrics may not reuse them. */
export const BUILTIN_METRICS = [
  'abs_error',
  'squared_error',
  'ape',
  'correct',
  'error',
  'latency_ms',
] as const;
export type BuiltinMetric = (typeof BUILTIN_METRICS)[number];

const id = (max: number) => z.string().min(1, 'must not be empty').max(max, `at most ${max} characters`);
const timestamp = z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]).optional();
const metricName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, 'metric names are lower_snake_case')
  .refine((n) => !(BUILTIN_METRICS as readonly string[]).includes(n), 'is a built-in metric name');

export const predictionInputSchema = z
  .object({
    requestId: id(200),
    unitId: id(200).optional(),
    model: id(100),
    version: id(200),
    role: z.enum(['served', 'shadow']).default('served'),
    prediction: z.union([
      z.number(),
      z.string().max(10_000),
      z.boolean(),
      z.null(),
      z.record(z.string(), z.unknown()),
      z.array(z.unknown()),
    ]),
    latencyMs: z.number().nonnegative('must be ≥ 0').optional(),
    error: z.boolean().default(false),
    errorCode: z.string().max(200).optional(),
    metrics: z.record(metricName, z.number()).optional(),
    featuresHash: z.string().max(128).optional(),
    /** The input values the model saw (numbers by name): what drift monitoring compares with training. */
    features: z
      .record(metricName, z.number())
      .refine((f) => Object.keys(f).length <= 200, 'at most 200 features')
      .optional(),
    rolloutId: z.string().max(200).optional(),
    at: timestamp,
  })
  .strict();

export const feedbackInputSchema = z
  .object({
    model: id(100),
    requestId: id(200),
    actual: z.union([z.number(), z.string().max(10_000), z.boolean()]),
    at: timestamp,
  })
  .strict();

export type PredictionInput = z.input<typeof predictionInputSchema>;
export type FeedbackInput = z.input<typeof feedbackInputSchema>;

/** A validated prediction, normalised for storage. */
export interface Prediction {
  requestId: string;
  unitId: string | null;
  model: string;
  version: string;
  role: 'served' | 'shadow';
  /** The prediction when it is a finite number (regression), else null. */
  value: number | null;
  prediction: unknown;
  latencyMs: number | null;
  error: boolean;
  errorCode: string | null;
  metrics: Record<string, number> | null;
  featuresHash: string | null;
  features: Record<string, number> | null;
  rolloutId: string;
  at: Date;
}

export interface Feedback {
  model: string;
  requestId: string;
  value: number | null;
  actual: number | string | boolean;
  at: Date;
}

export interface Rejection {
  index: number;
  field: string;
  reason: string;
}

function rejection(index: number, error: z.ZodError): Rejection {
  const issue = error.issues[0]!;
  const field = issue.path.map(String).join('.') || '(record)';
  return { index, field, reason: issue.message };
}

function toDate(at: string | number | undefined, now: Date): Date {
  if (at === undefined) return now;
  return new Date(at);
}

/** Validates one prediction; returns the normalised record or the first problem with its field. */
export function parsePrediction(input: unknown, index: number, now = new Date()): Prediction | Rejection {
  const parsed = predictionInputSchema.safeParse(input);
  if (!parsed.success) return rejection(index, parsed.error);
  const p = parsed.data;
  let version: string;
  try {
    version = parseVersion(p.version).version;
  } catch {
    return { index, field: 'version', reason: `${JSON.stringify(p.version)} is not a semantic version` };
  }
  return {
    requestId: p.requestId,
    unitId: p.unitId ?? null,
    model: p.model,
    version,
    role: p.role,
    value: typeof p.prediction === 'number' ? p.prediction : null,
    prediction: p.prediction,
    latencyMs: p.latencyMs ?? null,
    error: p.error,
    errorCode: p.errorCode ?? null,
    metrics: p.metrics ?? null,
    featuresHash: p.featuresHash ?? null,
    features: p.features ?? null,
    rolloutId: p.rolloutId ?? '',
    at: toDate(p.at, now),
  };
}

export function parseFeedback(input: unknown, index: number, now = new Date()): Feedback | Rejection {
  const parsed = feedbackInputSchema.safeParse(input);
  if (!parsed.success) return rejection(index, parsed.error);
  const f = parsed.data;
  return {
    model: f.model,
    requestId: f.requestId,
    value: typeof f.actual === 'number' ? f.actual : null,
    actual: f.actual,
    at: toDate(f.at, now),
  };
}

export function isRejection(r: object): r is Rejection {
  return 'reason' in r && 'index' in r;
}
