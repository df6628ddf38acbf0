// Almost all text has neither a NUL nor any surrogate: one cheap scan settles it (this runs for every text
// field of every ingested record).
// eslint-disable-next-line no-control-regex -- the NUL character is exactly what this looks for
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
// String.prototype.isWellFormed is ES2024; Node 20 has it but the project's lib is ES2023.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why PostgreSQL cannot store this text as sent, or undefined when it can. A NUL character is refused by
 * text and jsonb alike; a lone UTF-16 surrogate has no UTF-8 encoding: jsonb refuses it, and text columns
 * would store U+FFFD instead, something other than what was acknowledged (and a different key).
 */
export function unstorableText(text: string): string | undefined {
  if (!SUSPECT.test(text)) return undefined;
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which PostgreSQL cannot store';
  if (LONE_SURROGATE.test(text))
    return 'contains a lone UTF-16 surrogate (not valid Unicode), which PostgreSQL cannot store';
  return undefined;
}
