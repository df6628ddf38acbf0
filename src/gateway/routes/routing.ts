import { z } from 'zod';
import {
  changeRouting,
  getRouting,
  listRouting,
  routingChangeSchema,
  routingHistoryDuring,
  toEntry,
} from '../../routing/store.js';
import { storableString } from '../../validation/storable-string.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import type { PeopleContext } from '../people-context.js';
import { errorResponses, nameParam, ok } from '../schemas/common.js';
import { routingEntrySchema } from '../schemas/models.js';
import type { Role } from '../tokens.js';

const modelParams = z.object({ model: nameParam(100) });
const setBody = routingChangeSchema
  .extend({ reason: storableString(2000).optional() })
  .describe('Only the fields to change; the rest stay as they are.');

/** The ETag of a routing entry: its generation, quoted as HTTP wants. */
const etagOf = (generation: number): string => `"${generation}"`;

/** Whether an If-None-Match header names this generation (a list, a weak tag or `*` included). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

const historyQuery = z
  .object({
    since: z.iso.datetime({ offset: true }).optional().describe('Default: 30 days ago.'),
    until: z.iso.datetime({ offset: true }).optional().describe('Default: now.'),
  })
  .strict();
const historyEntrySchema = routingEntrySchema
  .extend({ at: z.string(), changedBy: z.string(), reason: z.string().nullable() })
  .meta({ id: 'RoutingChangeRecord' });

const readers: Role[] = ['ingest', 'operator', 'approver', 'registrar', 'auditor'];

/**
 * The routing table for clients that bucket locally (DESIGN.md §9): fetched once, revalidated with
 * If-None-Match, so a routing decision needs no round trip and survives a gateway restart.
 */
export function registerRoutingRoutes(app: GatewayApp, ctx: GatewayContext, people: PeopleContext): void {
  app.get(
    '/v1/routing',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['routing'],
        summary: 'Every model’s routing',
        description: rolesNote(readers),
        response: {
          200: ok(z.array(routingEntrySchema), 'The tenant’s routing table.'),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => listRouting(people.knex, grantOf(request).tenantId),
  );

  app.get(
    '/v1/routing/:model',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['routing'],
        summary: 'A model’s routing (cacheable)',
        description: `The entry with its generation as the ETag. Send it back in If-None-Match: while routing has not changed the answer is 304 with no body. ${rolesNote(readers)}`,
        params: modelParams,
        response: {
          200: ok(routingEntrySchema, 'The routing entry (header ETag: its generation).'),
          304: z.undefined().describe('Not modified: the generation in If-None-Match is current; no body.'),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const entry = await getRouting(people.knex, request.params.model, grantOf(request).tenantId);
      const etag = etagOf(entry.generation);
      void reply.header('etag', etag).header('cache-control', 'no-cache');
      if (matches(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return entry;
    },
  );

  app.post(
    '/v1/routing/:model',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['routing'],
        summary: 'Change a model’s routing',
        description: `The operator's manual override (\`arena routing set\`): audited, and announced to every router within milliseconds. A rollout in progress owns its model's routing; change it through the rollout instead. ${rolesNote(['operator'])}`,
        params: modelParams,
        body: setBody,
        response: {
          200: ok(routingEntrySchema, 'The routing after the change.'),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415),
        },
      },
    },
    async (request) => {
      const grant = grantOf(request);
      const { reason, ...change } = request.body;
      return changeRouting(people.knex, {
        tenantId: grant.tenantId,
        model: request.params.model,
        change,
        actor: grant.name,
        ...(reason ? { reason } : {}),
      });
    },
  );
  app.get(
    '/v1/routing/:model/history',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['routing'],
        summary: 'A model’s routing history',
        description: `The routing in force when the period began, then every change in it, by generation: who changed it, when and why. ${rolesNote(readers)}`,
        params: modelParams,
        querystring: historyQuery,
        response: {
          200: ok(z.array(historyEntrySchema), 'The changes, oldest first.'),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const tenantId = grantOf(request).tenantId;
      await getRouting(people.knex, request.params.model, tenantId);
      const until = request.query.until ? new Date(request.query.until) : new Date();
      const since = request.query.since
        ? new Date(request.query.since)
        : new Date(until.getTime() - 30 * 86_400_000);
      const rows = await routingHistoryDuring(people.knex, tenantId, request.params.model, since, until);
      return rows
        .filter((r) => new Date(r.at).getTime() <= until.getTime())
        .sort((a, b) => Number(a.generation) - Number(b.generation))
        .map((r) => ({
          ...toEntry({ ...r, updated_at: r.at }),
          at: new Date(r.at).toISOString(),
          changedBy: r.changed_by,
          reason: r.reason,
        }));
    },
  );
}
