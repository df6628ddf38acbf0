import type { Command } from 'commander';
import { z } from 'zod';
import { isCalendarDate } from '../src/validation/calendar-date.js';

/** A `YYYY-MM-DD` flag that must name a real day (2015-02-30 is refused, naming the flag). */
export const dateFlag = (flag: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, `${flag} must be a date YYYY-MM-DD`)
    .refine(isCalendarDate, `${flag} must be a real calendar date`);

/** An artifact's expected SHA-256, as the registry records it. */
export const digestFlag = z
  .string()
  .regex(/^(sha256:)?[0-9a-f]{64}$/, '--digest must be 64 lowercase hex digits, optionally prefixed sha256:');

/** A command's parsed flags, validated; the first problem names the flag and the value given. */
export function validatedFlags<S extends z.ZodType>(program: Command, schema: S): z.output<S> {
  const opts = program.opts<Record<string, unknown>>();
  const parsed = schema.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.message} (got ${JSON.stringify(opts[String(issue.path[0])])})`);
  }
  return parsed.data;
}
