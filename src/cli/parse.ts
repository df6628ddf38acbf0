import { InvalidInputError } from '../registry/errors.js';

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

/** A traffic weight in percent (0–100, up to two decimals) → basis points. */
export function percentToBasisPoints(field: string, text: string): number {
  const pct = Number(text);
  if (text.trim() === '' || !Number.isFinite(pct) || pct < 0 || pct > 100) {
    throw new InvalidInputError(field, text, 'must be a percentage between 0 and 100');
  }
  const bp = Math.round(pct * 100);
  if (Math.abs(bp - pct * 100) > 1e-6)
    throw new InvalidInputError(field, text, 'at most two decimals (1 basis point)');
  return bp;
}

/** `store=42` → { key: 'store', value: '42' } for --segment options. */
export function keyValue(field: string, text: string): { key: string; value: string } {
  const i = text.indexOf('=');
  if (i <= 0 || i === text.length - 1) throw new InvalidInputError(field, text, 'must look like KEY=VALUE');
  return { key: text.slice(0, i), value: text.slice(i + 1) };
}
