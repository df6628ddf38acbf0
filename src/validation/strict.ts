/**
 * Strict grammars for numbers and text that arrive as strings (command-line flags, HTTP paths and query
 * strings). `Number(text)` accepts `0x2`, `1e2`, ` 2`, `2.0`, `Infinity` and the empty string (as 0);
 * these accept plain decimal notation only, so a typo is refused instead of silently meaning something else.
 * Each returns the value or the reason it was refused; callers turn the reason into their own error
 * (InvalidInputError naming the flag on the command line, HTTP 400 naming the parameter in the gateway).
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The largest PostgreSQL bigint, the type of every generated id. */
export const BIGINT_MAX = 9_223_372_036_854_775_807n;

const INTEGER = /^-?\d+$/;
const UNSIGNED_DECIMAL = /^\d+(?:\.\d+)?$/;
const SIGNED_DECIMAL = /^-?\d+(?:\.\d+)?$/;
/** Longer than any number these bounds allow; keeps a megabyte of digits away from the regex and Number(). */
const MAX_NUMBER_TEXT = 40;

export interface IntegerBounds {
  min: number;
  max: number;
}

/** Decimal digits, optionally with a leading `-` (only when `min` is negative), within [min, max]. */
export function strictInteger(text: string, { min, max }: IntegerBounds): Parsed<number> {
  const accepted = `a whole number between ${min} and ${max}, written in decimal digits`;
  if (text.length > MAX_NUMBER_TEXT || !INTEGER.test(text) || (min >= 0 && text.startsWith('-')))
    return { ok: false, reason: `must be ${accepted}` };
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max)
    return { ok: false, reason: `must be ${accepted}` };
  // -0 is 0.
  return { ok: true, value: value === 0 ? 0 : value };
}

export interface DecimalBounds {
  min: number;
  max: number;
  /** `min` itself is refused (e.g. a rate that must be above 0). */
  minExclusive?: boolean;
  /** At most this many digits after the point (e.g. 2 for percent weights in basis points). */
  maxDecimals?: number;
}

/**
 * Plain decimal notation: digits, optionally a point followed by digits (`5`, `12.5`, `0.25`); a leading
 * `-` only when `min` is negative. No sign `+`, exponent, hex, spaces, `5.`, `.5`, Infinity or NaN.
 */
export function strictDecimal(text: string, bounds: DecimalBounds): Parsed<number> {
  const { min, max, minExclusive = false, maxDecimals } = bounds;
  const range = `${minExclusive ? 'above' : 'at least'} ${min} and at most ${max}`;
  const notation =
    maxDecimals === undefined
      ? 'plain decimal notation like 12.5'
      : maxDecimals === 0
        ? 'decimal digits only'
        : `plain decimal notation with at most ${maxDecimals} decimal${maxDecimals === 1 ? '' : 's'}`;
  const accepted = `must be a number ${range}, in ${notation}`;
  const grammar = min < 0 ? SIGNED_DECIMAL : UNSIGNED_DECIMAL;
  if (text.length > MAX_NUMBER_TEXT || !grammar.test(text)) return { ok: false, reason: accepted };
  const point = text.indexOf('.');
  if (maxDecimals !== undefined && point >= 0 && text.length - point - 1 > maxDecimals)
    return { ok: false, reason: accepted };
  const value = Number(text);
  if (!Number.isFinite(value) || value > max || value < min || (minExclusive && value === min))
    return { ok: false, reason: accepted };
  return { ok: true, value: value === 0 ? 0 : value };
}

/**
 * A generated id (PostgreSQL bigint): decimal digits between 1 and 9223372036854775807. Returned as its
 * canonical decimal string, since ids past 2^53 do not survive a JavaScript number.
 */
export function bigintId(text: string): Parsed<string> {
  const reason = `must be an id: decimal digits between 1 and ${BIGINT_MAX}`;
  if (text.length > 30 || !/^\d+$/.test(text)) return { ok: false, reason };
  const n = BigInt(text);
  if (n < 1n || n > BIGINT_MAX) return { ok: false, reason };
  return { ok: true, value: n.toString() };
}
