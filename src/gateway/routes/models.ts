import { z } from 'zod';
import { modelHealth } from '../../health/model-health.js';
import { getVersion, listModels, registerVersion, setChampion, showModel } from '../../registry/registry.js';
import { championAt } from '../../routing/store.js';
import { storableString } from '../../validation/storable-string.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import { HttpError } from '../http-error.js';
import type { PeopleContext } from '../people-context.js';
import { errorResponses, nameParam, ok } from '../schemas/common.js';
import {
  modelHealthSchema,
  modelSchema,
  modelSummarySchema,
  routingEntrySchema,
  versionSchema,
} from '../schemas/models.js';
import type { Role } from '../tokens.js';

const modelParams = z.object({ model: nameParam(100) });
const versionParams = z.object({ model: nameParam(100), version: nameParam(200) });
const json = z.record(z.string(), z.unknown());
const registerBody = z
  .object({
    version: nameParam(200).describe('Semantic version, e.g. 1.4.0.'),
    artifactUri: storableString(2000).pipe(z.string().min(1)).optional(),
    artifactDigest: z
      .string()
      .regex(/^(sha256:)?[0-9a-f]{64}$/, 'must be a SHA-256 hex digest')
      .optional(),
    training: json.optional().describe('Training lineage: data window, code commit, parameters.'),
    metrics: json.optional().describe('Offline metrics (mae, mape, …).'),
    parentVersion: nameParam(200).optional(),
    description: storableString(2000)
      .optional()
      .describe('The model’s description, kept from its first registration.'),
  })
  .strict();
const championBody = z.object({ version: nameParam(200), reason: storableString(2000).optional() }).strict();
const atQuery = z.object({ at: z.iso.datetime({ offset: true }).describe('ISO-8601 with offset.') }).strict();

const iso = <T extends { createdAt: Date; updatedAt: Date; promotedAt?: Date | null }>(v: T) => ({
  ...v,
  createdAt: v.createdAt.toISOString(),
  updatedAt: v.updatedAt.toISOString(),
  ...('promotedAt' in v ? { promotedAt: v.promotedAt ? v.promotedAt.toISOString() : null } : {}),
});

const readers: Role[] = ['operator', 'approver', 'registrar', 'auditor'];

/** The registry over HTTP: models, versions (registered by pipelines with the `registrar` role), champions. */
export function registerModelRoutes(app: GatewayApp, ctx: GatewayContext, people: PeopleContext): void {
  const read = { onRequest: ctx.requireRole(...readers) };

  app.get(
    '/v1/models',
    {
      ...read,
      schema: {
        tags: ['models'],
        summary: 'List models',
        description: rolesNote(readers),
        response: {
          200: ok(z.array(modelSummarySchema), 'The tenant’s models.'),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => listModels(people.knex, grantOf(request).tenantId),
  );

  app.get(
    '/v1/models/:model',
    {
      ...read,
      schema: {
        tags: ['models'],
        summary: 'Show a model',
        description: `Its routing and every version. ${rolesNote(readers)}`,
        params: modelParams,
        response: { 200: ok(modelSchema, 'The model.'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const m = await showModel(people.knex, request.params.model, grantOf(request).tenantId);
      return { ...m, versions: m.versions.map(iso) };
    },
  );

  app.post(
    '/v1/models/:model/versions',
    {
      onRequest: ctx.requireRole('registrar', 'operator'),
      schema: {
        tags: ['models'],
        summary: 'Register a version',
        description: `Registers a candidate version with its artifact, lineage and offline metrics (the model is created with its first version). Idempotent: the same version with the same details answers 200; with different details 409, because a registered version is immutable. ${rolesNote(['registrar', 'operator'])}`,
        params: modelParams,
        body: registerBody,
        response: {
          201: ok(versionSchema, 'Registered.'),
          200: ok(versionSchema, 'Already registered with the same details.'),
          ...errorResponses(400, 401, 403, 409, 413, 415),
        },
      },
    },
    async (request, reply) => {
      const grant = grantOf(request);
      const { version, created } = await registerVersion(people.knex, {
        ...request.body,
        model: request.params.model,
        tenantId: grant.tenantId,
        actor: grant.name,
      });
      return reply.code(created ? 201 : 200).send(iso(version));
    },
  );

  app.get(
    '/v1/models/:model/versions/:version',
    {
      ...read,
      schema: {
        tags: ['models'],
        summary: 'Show a version',
        description: rolesNote(readers),
        params: versionParams,
        response: { 200: ok(versionSchema, 'The version.'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      iso(
        await getVersion(
          people.knex,
          request.params.model,
          request.params.version,
          grantOf(request).tenantId,
        ),
      ),
  );

  app.post(
    '/v1/models/:model/champion',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['models'],
        summary: 'Set the champion',
        description: `Makes a version the champion at once (bootstrap, or an operator's override): the previous champion is archived, routing points at the new one, and the change is audited and announced to every router. Rollouts do this themselves on promotion. ${rolesNote(['operator'])}`,
        params: modelParams,
        body: championBody,
        response: {
          200: ok(routingEntrySchema, 'The routing after the change.'),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415),
        },
      },
    },
    async (request) => {
      const grant = grantOf(request);
      return setChampion(people.knex, {
        tenantId: grant.tenantId,
        model: request.params.model,
        version: request.body.version,
        actor: grant.name,
        ...(request.body.reason ? { reason: request.body.reason } : {}),
      });
    },
  );

  app.get(
    '/v1/models/:model/champion-at',
    {
      ...read,
      schema: {
        tags: ['models'],
        summary: 'Champion at a time',
        description: `Which version was champion at \`at\`, from the routing history. ${rolesNote(readers)}`,
        params: modelParams,
        querystring: atQuery,
        response: {
          200: ok(
            z.object({ model: z.string(), at: z.string(), champion: z.string().nullable() }),
            'The champion then (null before the first).',
          ),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const tenantId = grantOf(request).tenantId;
      const { model } = request.params;
      // A model unknown to this tenant is a 404, not "no champion yet".
      await showModel(people.knex, model, tenantId);
      const at = new Date(request.query.at);
      if (Number.isNaN(at.getTime()))
        throw new HttpError(400, `query.at=${JSON.stringify(request.query.at)}: not a time`);
      return { model, at: at.toISOString(), champion: await championAt(people.knex, model, at, tenantId) };
    },
  );

  app.get(
    '/v1/models/:model/health',
    {
      onRequest: ctx.requireRole('operator', 'approver'),
      schema: {
        tags: ['models'],
        summary: 'Model health',
        description: rolesNote(['operator', 'approver']),
        params: modelParams,
        response: {
          200: ok(modelHealthSchema, 'The model’s health.'),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) =>
      modelHealth(people.knex, request.params.model, { tenantId: grantOf(request).tenantId }),
  );
}
