import { formatDuration, parseDuration } from '../policy/duration.js';
import { InvalidInputError } from '../errors.js';
import {
  bigintId,
  strictDecimal,
  strictInteger,
  type DecimalBounds,
  type IntegerBounds,
  type Parsed,
} from '../validation/strict.js';

/** A JSON object given on the command line, e.g. --metrics '{"mae":12.5}'. */
export function jsonObjectOption(
  field: string,
  text: string | undefined,
): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidInputError(field, text, `not valid JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError(field, text, 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Throws InvalidInputError naming the flag, the value and what is accepted. */
function orThrow<T>(field: string, text: string, parsed: Parsed<T>): T {
  if (!parsed.ok) throw new InvalidInputError(field, text, parsed.reason);
  return parsed.value;
}

/**
 * A whole number given on the command line (`--limit 50`): decimal digits only, within [min, max]. Refuses
 * `0x2`, `1e2`, `2.0`, ` 2`, `+2` and the empty string, which `Number()` would take.
 */
export function integerOption(field: string, text: string, bounds: IntegerBounds): number {
  return orThrow(field, text, strictInteger(text, bounds));
}

/** A number in plain decimal notation (`12.5`, `0.25`) within bounds; no exponent, hex, sign `+` or spaces. */
export function decimalOption(field: string, text: string, bounds: DecimalBounds): number {
  return orThrow(field, text, strictDecimal(text, bounds));
}

/** An id of a database row (an alert id): decimal digits, 1..9223372036854775807, as a decimal string. */
export function idOption(field: string, text: string): string {
  return orThrow(field, text, bigintId(text));
}

/** A duration flag (`30s`, `5m`, `1h30m`) within [minMs, maxMs], in milliseconds. */
export function durationOption(
  field: string,
  text: string,
  { minMs = 0, maxMs }: { minMs?: number; maxMs: number },
): number {
  const ms = parseDuration(text);
  if (ms === undefined)
    throw new InvalidInputError(field, text, 'must be a duration like 250ms, 30s, 5m, 2h or 1h30m');
  if (ms < minMs) throw new InvalidInputError(field, text, `must be at least ${formatDuration(minMs)}`);
  if (ms > maxMs) throw new InvalidInputError(field, text, `must be at most ${formatDuration(maxMs)}`);
  return ms;
}

/**
 * A traffic weight in percent (0–100, up to two decimals: `5`, `12.5`, `0.25`) → basis points, computed from
 * the digits so that no floating-point rounding is involved.
 */
export function percentToBasisPoints(field: string, text: string): number {
  orThrow(field, text, strictDecimal(text, { min: 0, max: 100, maxDecimals: 2 }));
  const [whole, fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** `store=42` → { key: 'store', value: '42' } for --segment options. */
export function keyValue(field: string, text: string): { key: string; value: string } {
  const i = text.indexOf('=');
  if (i <= 0 || i === text.length - 1) throw new InvalidInputError(field, text, 'must look like KEY=VALUE');
  return { key: text.slice(0, i), value: text.slice(i + 1) };
}

/** `--since 24h` (that long ago) or an ISO time. */
export function sinceOption(field: string, text: string | undefined, now = new Date()): Date | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms !== undefined) {
    const since = new Date(now.getTime() - ms);
    if (Number.isNaN(since.getTime()))
      throw new InvalidInputError(field, text, 'reaches back before any date JavaScript can represent');
    return since;
  }
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t))
    throw new InvalidInputError(
      field,
      text,
      'must be a duration like 24h or 7d, or an ISO time like 2026-11-22T10:00:00Z',
    );
  return new Date(t);
}
