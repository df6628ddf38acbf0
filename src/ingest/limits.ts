import { unstorableText } from '../validation/storable-text.js';

export { unstorableText };

/**
 * What a record may hold: everything PostgreSQL would refuse, or that would poison a statistic, is refused at
 * validation with a field and a reason, so the writer never meets it (docs/ingestion.md, "Limits").
 */

/**
 * Largest magnitude of a number that feeds a statistic (a numeric prediction, an actual, a latency, a named
 * metric, a feature). Rollups keep sums of squares, and the squared error is itself a square, so its sum of
 * squares holds fourth powers: (2·1e50)⁴ ≈ 1.6e201, summed over any feasible number of records, stays
 * finite. Anything real a model predicts or measures is far below it.
 */
export const MAX_MAGNITUDE = 1e50;

/**
 * A derived outcome metric larger than this is left out, as an APE at a zero actual is: an APE at an actual
 * near zero, or an error against a value stored before these limits existed. Squared errors of in-range
 * values stay below it ((2·1e50)² = 4e100).
 */
export const MAX_DERIVED_MAGNITUDE = 1e110;

/** Deepest nesting of an object or array prediction (the prediction itself is depth 1). */
export const MAX_PREDICTION_DEPTH = 32;

/** Largest object or array prediction, as UTF-8 JSON. */
export const MAX_PREDICTION_BYTES = 64 * 1024;

/** Most named metrics on one prediction. */
export const MAX_METRICS = 100;

/** Longest segment name on a prediction. */
export const MAX_SEGMENT_LENGTH = 100;

/**
 * Most segment values a model tracks (model_segments, migration 20261203000010), in order of first arrival;
 * the traffic of any further value is summed under OTHER_SEGMENT. It bounds segment rollups whatever callers
 * send; a policy's `segments.top` then picks the segments an analysis judges.
 */
export const MAX_SEGMENTS_PER_MODEL = 200;

/** Arena's name for traffic outside the tracked (or, in an analysis, the top) segments. */
export const OTHER_SEGMENT = '(other)';

/** Default plausibility window of a record's timestamp. */
export const DEFAULT_MAX_AGE_MS = 10 * 365.25 * 86_400_000;
export const DEFAULT_MAX_FUTURE_MS = 30 * 86_400_000;

export interface TimeWindow {
  /** How far in the past a record's `at` may lie. */
  maxAgeMs: number;
  /** How far in the future (clock skew, scheduled forecasts). */
  maxFutureMs: number;
}

export const DEFAULT_TIME_WINDOW: TimeWindow = {
  maxAgeMs: DEFAULT_MAX_AGE_MS,
  maxFutureMs: DEFAULT_MAX_FUTURE_MS,
};

/** Why this number cannot feed a statistic, or undefined when it can. */
export function unusableNumber(value: number): string | undefined {
  // The common case in one comparison pair (false for NaN too): this runs for every number of every record.
  if (value >= -MAX_MAGNITUDE && value <= MAX_MAGNITUDE) return undefined;
  if (!Number.isFinite(value)) return `${value} is not a finite number`;
  if (Math.abs(value) > MAX_MAGNITUDE)
    return `${value} is larger in magnitude than ${MAX_MAGNITUDE} (its square would overflow the rollups)`;
  return undefined;
}

export interface JsonProblem {
  /** Path below the value, e.g. `scores.3.label`; '' for the value itself. */
  path: string;
  reason: string;
}

/**
 * Checks a prediction object or array without recursion (a deep value must not overflow the stack here
 * either): JSON types only, depth and size within the limits, text PostgreSQL can store, finite numbers.
 * Size is counted as the JSON text would be, so the check never serialises a value that is too big.
 */
export function jsonValueProblem(value: unknown): JsonProblem | undefined {
  let bytes = 0;
  const stack: Array<{ value: unknown; depth: number; path: string }> = [{ value, depth: 1, path: '' }];
  const at = (path: string, key: string): string => (path ? `${path}.${key}` : key);
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.value;
    if (v === null || typeof v === 'boolean') {
      bytes += 5;
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) return { path: item.path, reason: `${v} is not a finite number` };
      bytes += 24;
    } else if (typeof v === 'string') {
      const problem = unstorableText(v);
      if (problem) return { path: item.path, reason: problem };
      bytes += Buffer.byteLength(v, 'utf8') + 2;
    } else if (typeof v === 'object') {
      if (item.depth > MAX_PREDICTION_DEPTH)
        return { path: item.path, reason: `nested deeper than ${MAX_PREDICTION_DEPTH} levels` };
      if (Array.isArray(v)) {
        bytes += 2 + v.length;
        // Before visiting the elements: a sparse array's length costs nothing to send and ages to walk.
        if (bytes > MAX_PREDICTION_BYTES)
          return { path: '', reason: `larger than ${MAX_PREDICTION_BYTES} bytes as JSON` };
        for (let i = v.length - 1; i >= 0; i--)
          stack.push({ value: v[i], depth: item.depth + 1, path: at(item.path, String(i)) });
      } else {
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null)
          return {
            path: item.path,
            reason: 'is not a JSON value (only plain objects, arrays, strings, numbers, booleans and null)',
          };
        const entries = Object.entries(v);
        bytes += 2 + entries.length;
        for (let i = entries.length - 1; i >= 0; i--) {
          const [key, child] = entries[i]!;
          const problem = unstorableText(key);
          if (problem) return { path: at(item.path, key), reason: `key ${problem}` };
          bytes += Buffer.byteLength(key, 'utf8') + 3;
          stack.push({ value: child, depth: item.depth + 1, path: at(item.path, key) });
        }
      }
    } else {
      return { path: item.path, reason: `a ${typeof v} is not a JSON value` };
    }
    if (bytes > MAX_PREDICTION_BYTES)
      return { path: '', reason: `larger than ${MAX_PREDICTION_BYTES} bytes as JSON` };
  }
  return undefined;
}
