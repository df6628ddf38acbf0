import { parseDuration } from '../policy/duration.js';
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

/** `--since 24h` (that long ago) or an ISO time. */
export function sinceOption(field: string, text: string | undefined, now = new Date()): Date | undefined {
  if (text === undefined) return undefined;
  const ms = parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() - ms);
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(t))
    throw new InvalidInputError(
      field,
      text,
      'must be a duration like 24h or 7d, or an ISO time like 2026-11-22T10:00:00Z',
    );
  return new Date(t);
}
