import { z } from 'zod';
import { parseVersion } from '../registry/version.js';
import {
  DEFAULT_TIME_WINDOW,
  MAX_METRICS,
  MAX_SEGMENT_LENGTH,
  OTHER_SEGMENT,
  jsonValueProblem,
  unstorableText,
  unusableNumber,
  type TimeWindow,
} from './limits.js';

/** Metric names computed by Arena itself; recorded named metrics may not reuse them. */
export const BUILTIN_METRICS = [
  'abs_error',
  'squared_error',
  'ape',
  'correct',
  'log_loss',
  'error',
  'latency_ms',
] as const;
export type BuiltinMetric = (typeof BUILTIN_METRICS)[number];

// What PostgreSQL could not store or a statistic could not use (limits.ts) is checked after the schema, in
// one pass over the parsed record (storageProblem), rather than as a refinement on every field: this runs for
// every ingested record, and per-field refinements made validation about 40 % slower.
const text = (max: number) => z.string().max(max, `at most ${max} characters`);
const id = (max: number) => text(max).min(1, 'must not be empty');
const statNumber = z.number();
const timestamp = z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]).optional();
const metricName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,62}$/, 'metric names are lower_snake_case')
  .refine((n) => !(BUILTIN_METRICS as readonly string[]).includes(n), 'is a built-in metric name');

/** A prediction: a number (regression), text or a boolean (a label), null, or a bounded JSON object or array. */
const predictionValue = z.unknown();
export const predictionInputSchema = z
  .object({
    requestId: id(200),
    unitId: id(200).optional(),
    model: id(100),
    version: id(200),
    role: z.enum(['served', 'shadow']).default('served'),
    prediction: predictionValue,
    /**
     * A binary classifier's probability of `true`, beside its label (`prediction: true`): with a true/false
     * outcome Arena derives the prediction's log loss (`log_loss`) as well as `correct`.
     */
    probability: z.number().min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]').optional(),
    latencyMs: z.number().nonnegative('must be ≥ 0').optional(),
    error: z.boolean().default(false),
    errorCode: text(200).optional(),
    metrics: z
      .record(metricName, statNumber)
      .refine((m) => Object.keys(m).length <= MAX_METRICS, `at most ${MAX_METRICS} metrics`)
      .optional(),
    featuresHash: text(128).optional(),
    /**
     * The input values the model saw, by name: numbers, or categories as text (an airport code). What drift
     * monitoring compares with training: PSI and KS for numbers, PSI over shares and chi-square for text.
     */
    features: z
      .record(metricName, z.union([statNumber, text(200).min(1, 'must not be empty')]))
      .refine((f) => Object.keys(f).length <= 200, 'at most 200 features')
      .optional(),
    rolloutId: text(200).optional(),
    /**
     * The segment the request belongs to (an origin airport, a country): the per-segment consistency check
     * compares the versions within each one (DESIGN.md §11). A model tracks at most MAX_SEGMENTS_PER_MODEL
     * values; '(other)' is Arena's name for the rest, so a caller may not send it.
     */
    segment: text(MAX_SEGMENT_LENGTH)
      .min(1, 'must not be empty')
      .refine((s) => s !== OTHER_SEGMENT, `"${OTHER_SEGMENT}" is reserved for untracked segments`)
      .optional(),
    at: timestamp,
  })
  .strict();

export const feedbackInputSchema = z
  .object({
    model: id(100),
    requestId: id(200),
    actual: z.union([statNumber, text(10_000), z.boolean()]),
    at: timestamp,
  })
  .strict();

/**
 * A shallow copy of a record object before it is validated. V8 reads a missing property about fifty times
 * slower on an object built by spreading and then adding a key (`{ ...base, segment }`, a common way to
 * build records in TypeScript) than on a literal or a JSON.parse result, and validation reads every field
 * of the schema, most of them absent: 4 µs a record, a quarter of the recorder's rate in
 * `npm run bench -- ingest`. The copy (spread, so an own `__proto__` key stays a key) costs 0.2 µs.
 */
function ownCopy(input: unknown): unknown {
  return input !== null && typeof input === 'object' && !Array.isArray(input) ? { ...input } : input;
}

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
  features: Record<string, number | string> | null;
  rolloutId: string;
  segment: string | null;
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
  // A path may run through the caller's own object keys: keep it readable, whatever they sent.
  const field = issue.path.map(String).join('.').slice(0, 200) || '(record)';
  return { index, field, reason: issue.message };
}

/**
 * The record's time, if it lies in the plausibility window around now. Outside it, a time is far more
 * likely a unit mistake (seconds for milliseconds) or garbage than data, and beyond JavaScript's or
 * PostgreSQL's range it could not be stored at all.
 */
function toDate(at: string | number | undefined, now: Date, window: TimeWindow): Date | string {
  if (at === undefined) return now;
  const date = new Date(at);
  const t = date.getTime();
  if (Number.isNaN(t)) return `${JSON.stringify(at)} is not a representable time`;
  if (t < now.getTime() - window.maxAgeMs)
    return `${describeAt(at, date)} is older than the plausibility window (${describeMs(window.maxAgeMs)} back)${typeof at === 'number' ? '; is it in seconds instead of milliseconds?' : ''}`;
  if (t > now.getTime() + window.maxFutureMs)
    return `${describeAt(at, date)} is further ahead than the plausibility window (${describeMs(window.maxFutureMs)} ahead)`;
  return date;
}

function describeAt(at: string | number, date: Date): string {
  return typeof at === 'number' ? `${at} (${date.toISOString()})` : JSON.stringify(at);
}

function describeMs(ms: number): string {
  const days = ms / 86_400_000;
  return days >= 365 ? `${Math.round(days / 365.25)} years` : `${Math.round(days * 10) / 10} days`;
}

export interface ParseOptions {
  /** Plausibility window of `at` (default: 10 years back, 30 days ahead). */
  window?: TimeWindow;
}

/**
 * zod's record skips an own `__proto__` key (as JSON.parse makes one) without checking it, so a metric or
 * feature of that name would be stored silently without its value; refuse it by name instead.
 */
function protoKey(input: unknown): 'metrics' | 'features' | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  for (const field of ['metrics', 'features'] as const) {
    const value = (input as Record<string, unknown>)[field];
    if (
      value !== null &&
      typeof value === 'object' &&
      Object.prototype.hasOwnProperty.call(value, '__proto__')
    )
      return field;
  }
  return undefined;
}

const PREDICTION_TEXT = [
  'requestId',
  'unitId',
  'model',
  'version',
  'errorCode',
  'featuresHash',
  'rolloutId',
  'segment',
] as const;

function numbersProblem(
  field: string,
  values: Record<string, number | string> | undefined,
): { field: string; reason: string } | undefined {
  if (!values) return undefined;
  for (const name in values) {
    const value = values[name]!;
    const problem = typeof value === 'string' ? unstorableText(value) : unusableNumber(value);
    if (problem) return { field: `${field}.${name}`, reason: problem };
  }
  return undefined;
}

/** The first thing of a schema-valid prediction that storage or a statistic could not take (limits.ts). */
function predictionStorageProblem(
  p: z.output<typeof predictionInputSchema>,
): { field: string; reason: string } | undefined {
  for (const field of PREDICTION_TEXT) {
    const value = p[field];
    const problem = value === undefined ? undefined : unstorableText(value);
    if (problem) return { field, reason: problem };
  }
  const v = p.prediction;
  if (v === undefined) return { field: 'prediction', reason: 'is required' };
  if (typeof v === 'number') {
    const problem = unusableNumber(v);
    if (problem) return { field: 'prediction', reason: problem };
  } else if (typeof v === 'string' && v.length > 10_000) {
    return { field: 'prediction', reason: 'at most 10000 characters' };
  } else {
    const problem = jsonValueProblem(v);
    if (problem)
      return { field: problem.path ? `prediction.${problem.path}` : 'prediction', reason: problem.reason };
  }
  if (p.latencyMs !== undefined) {
    const problem = unusableNumber(p.latencyMs);
    if (problem) return { field: 'latencyMs', reason: problem };
  }
  return numbersProblem('metrics', p.metrics) ?? numbersProblem('features', p.features);
}

/** Validates one prediction; returns the normalised record or the first problem with its field. */
export function parsePrediction(
  input: unknown,
  index: number,
  now = new Date(),
  options: ParseOptions = {},
): Prediction | Rejection {
  const record = ownCopy(input);
  const proto = protoKey(record);
  if (proto) return { index, field: `${proto}.__proto__`, reason: 'is not a valid name (lower_snake_case)' };
  const parsed = predictionInputSchema.safeParse(record);
  if (!parsed.success) return rejection(index, parsed.error);
  const p = parsed.data;
  const problem = predictionStorageProblem(p);
  if (problem) return { index, field: problem.field.slice(0, 200), reason: problem.reason };
  if (p.probability !== undefined && typeof p.prediction !== 'boolean')
    return {
      index,
      field: 'probability',
      reason: `is a binary classifier's probability of true: the prediction must be true or false (got ${JSON.stringify(p.prediction)?.slice(0, 100) ?? 'nothing'})`,
    };
  const at = toDate(p.at, now, options.window ?? DEFAULT_TIME_WINDOW);
  if (typeof at === 'string') return { index, field: 'at', reason: at };
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
    value: typeof p.prediction === 'number' ? p.prediction : (p.probability ?? null),
    prediction: p.prediction,
    latencyMs: p.latencyMs ?? null,
    error: p.error,
    errorCode: p.errorCode ?? null,
    metrics: p.metrics ?? null,
    featuresHash: p.featuresHash ?? null,
    features: p.features ?? null,
    rolloutId: p.rolloutId ?? '',
    segment: p.segment ?? null,
    at,
  };
}

export function parseFeedback(
  input: unknown,
  index: number,
  now = new Date(),
  options: ParseOptions = {},
): Feedback | Rejection {
  const parsed = feedbackInputSchema.safeParse(ownCopy(input));
  if (!parsed.success) return rejection(index, parsed.error);
  const f = parsed.data;
  for (const field of ['model', 'requestId'] as const) {
    const problem = unstorableText(f[field]);
    if (problem) return { index, field, reason: problem };
  }
  const actualProblem =
    typeof f.actual === 'number'
      ? unusableNumber(f.actual)
      : typeof f.actual === 'string'
        ? unstorableText(f.actual)
        : undefined;
  if (actualProblem) return { index, field: 'actual', reason: actualProblem };
  const at = toDate(f.at, now, options.window ?? DEFAULT_TIME_WINDOW);
  if (typeof at === 'string') return { index, field: 'at', reason: at };
  return {
    model: f.model,
    requestId: f.requestId,
    value: typeof f.actual === 'number' ? f.actual : null,
    actual: f.actual,
    at,
  };
}

export function isRejection(r: object): r is Rejection {
  return 'reason' in r && 'index' in r;
}
