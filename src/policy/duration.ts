/** Durations as policy files write them: `250ms`, `30s`, `5m`, `72h`, `7d`, or combinations like `1h30m`. */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PART = /(\d+)(?:\.(\d+))?(ms|s|m|h|d|w)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
/** Longer than any sensible duration; keeps pathological input away from the regular expressions. */
const MAX_TEXT = 64;

/**
 * Milliseconds (a safe integer, fractions of a millisecond rounded), or undefined if `text` is not a
 * duration: only digits, an optional decimal fraction and a unit, repeated (`1e3s`, `-5s`, `5`, `.5s` are
 * not durations), and nothing so large it would not be a safe integer.
 */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed.length > MAX_TEXT || !WHOLE.test(trimmed)) return undefined;
  let whole = 0;
  let fraction = 0;
  for (const [, digits, decimals, unit] of trimmed.matchAll(PART)) {
    const size = UNIT_MS[unit!]!;
    whole += Number(digits) * size;
    if (decimals) fraction += Number(`0.${decimals}`) * size;
  }
  const total = whole + Math.round(fraction);
  return Number.isSafeInteger(total) ? total : undefined;
}

/** The shortest exact rendering, for status output: 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
