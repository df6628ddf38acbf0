/**
 * Typed errors of the statistics engine. Every function either returns a defined number or throws one of
 * these, so a NaN can never reach a rollout decision unnoticed: callers (the gate, activities, the CLI)
 * can tell "the input was unusable" from a bug, and the message names the offending field and value.
 */

/** The input cannot be analyzed: wrong shape, out of range, non-finite, or too little data. */
export class StatsInputError extends Error {
  override name = 'StatsInputError';
  readonly code: string = 'STATS_INPUT';
  constructor(
    /** Where the bad value sits, e.g. `a[17]`, `control.variance`, `p`. */
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${field} = ${formatValue(value)}: ${reason}`);
  }
}

/** Fewer observations than the statistic needs (e.g. a variance from one value). */
export class InsufficientDataError extends StatsInputError {
  override name = 'InsufficientDataError';
  override readonly code: string = 'STATS_INSUFFICIENT_DATA';
  constructor(
    field: string,
    value: number,
    readonly required: number,
  ) {
    super(field, value, `needs at least ${required}`);
  }
}

/** An iterative special-function evaluation did not converge: a bug or an input far outside tested ranges. */
export class StatsNumericError extends Error {
  override name = 'StatsNumericError';
  readonly code = 'STATS_NUMERIC';
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return `[array of ${value.length}]`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/* Validation helpers shared by the families (internal; not re-exported from index.ts). */

export function requireFinite(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new StatsInputError(field, value, 'must be a finite number');
  }
  return value;
}

export function requirePositive(field: string, value: number): number {
  requireFinite(field, value);
  if (!(value > 0)) throw new StatsInputError(field, value, 'must be > 0');
  return value;
}

export function requireNonNegative(field: string, value: number): number {
  requireFinite(field, value);
  if (value < 0) throw new StatsInputError(field, value, 'must be ≥ 0');
  return value;
}

/** A probability strictly inside (0, 1), e.g. alpha or power. */
export function requireOpenUnit(field: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0 && value < 1)) {
    throw new StatsInputError(field, value, 'must lie strictly between 0 and 1');
  }
  return value;
}

export function requireCount(field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new StatsInputError(field, value, 'must be a non-negative integer');
  }
  return value;
}

export function requireFiniteArray(field: string, values: readonly number[]): readonly number[] {
  if (!Array.isArray(values)) throw new StatsInputError(field, values, 'must be an array of numbers');
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new StatsInputError(`${field}[${i}]`, v, 'must be a finite number');
    }
  }
  return values;
}
