import { z } from 'zod';

/**
 * True for a date YYYY-MM-DD that exists. `Date.parse` alone is not enough: it takes 2015-02-30 as
 * 2 March, so the date is checked to come back unchanged.
 */
export function isCalendarDate(d: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return false;
  const t = Date.parse(`${d}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === d;
}

/** A date YYYY-MM-DD that exists, with messages that say which rule it broke. */
export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isCalendarDate, 'must be a real calendar date');
