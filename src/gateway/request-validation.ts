import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { strictInteger } from '../validation/strict.js';
import { HttpError } from './http-error.js';

const PART_NAMES: Record<string, string> = {
  querystring: 'query',
  params: 'params',
  body: 'body',
  headers: 'headers',
};

/**
 * Request validation with the route's zod schemas (the same ones the OpenAPI document is generated from).
 * A refusal is a 400 naming the part, the field and, when it is text or a number, the value as sent
 * (JSON-escaped, so a NUL shows as \u0000): `params.id="x": …`, `body.reason: …`.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data) => {
    const r = schema.safeParse(data ?? {});
    if (r.success) return { value: r.data };
    const issue = r.error.issues[0]!;
    let at: unknown = data;
    for (const k of issue.path) at = (at as Record<PropertyKey, unknown> | null | undefined)?.[k];
    const shown = typeof at === 'string' || typeof at === 'number' ? `=${JSON.stringify(at)}` : '';
    const where = PART_NAMES[httpPart ?? 'body'] ?? httpPart ?? 'body';
    return {
      error: new HttpError(
        400,
        `${where}${issue.path.length ? `.${issue.path.map(String).join('.')}` : ''}${shown}: ${issue.message}`,
      ),
    };
  };

/**
 * A `limit` query parameter: decimal digits only (not 1e2, 0x2 or 2.0), within the range, or the default
 * when absent. Kept as text in the schema so the refusal can show exactly what was sent.
 */
export function limitParam(
  text: string | undefined,
  range: { min: number; max: number },
  fallback: number,
): number {
  if (text === undefined) return fallback;
  const parsed = strictInteger(text, range);
  if (!parsed.ok) throw new HttpError(400, `query.limit=${JSON.stringify(text)}: ${parsed.reason}`);
  return parsed.value;
}
