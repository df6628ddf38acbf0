import { z } from 'zod';
import { storableString } from '../../validation/storable-string.js';

/** Every error the gateway answers: what went wrong, what to do next, and for refusals a stable code. */
export const errorSchema = z
  .object({
    error: z.string().describe('What went wrong, naming the field and the value where there is one.'),
    hint: z.string().optional().describe('What to do next.'),
    code: z
      .string()
      .optional()
      .describe('A stable code for refusals (invalid_input, not_found, conflict, refused, …).'),
  })
  .meta({ id: 'Error' });

const ERROR_MEANING: Record<number, string> = {
  400: 'Bad input: the message names the field and the value.',
  401: 'Missing or unknown bearer token.',
  403: 'The token lacks the role this route needs.',
  404: 'No such resource in the token’s tenant.',
  409: 'Refused in the current state (for example, an action its validator refused, or a version registered again with a different digest).',
  413: 'Body or batch too large.',
  415: 'The body is not JSON: send Content-Type: application/json.',
  500: 'The database refused the write as a whole (not because of a record): nothing was acknowledged; check the migrations and the gateway’s database role.',
  503: 'A dependency (PostgreSQL or Temporal) is unavailable; nothing was stored, and retrying is safe.',
};

/** Documented error answers of a route, each with the shared error body. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: ERROR_MEANING[s] ?? 'Error', content: { 'application/json': { schema: errorSchema } } },
    ]),
  );

/** A success answer with a description, for the document. */
export const ok = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A path segment naming a resource: text PostgreSQL can store, not empty. */
export const nameParam = (max = 300) => storableString(max).pipe(z.string().min(1));
