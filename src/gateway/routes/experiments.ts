import { z } from 'zod';
import { EXPERIMENT_STATES } from '../../experiments/types.js';
import { storableString } from '../../validation/storable-string.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import { HttpError } from '../http-error.js';
import type { PeopleContext } from '../people-context.js';
import { errorResponses, nameParam, ok } from '../schemas/common.js';
import {
  completeBody,
  experimentStatusSchema,
  experimentSummarySchema,
  proposeBody,
} from '../schemas/experiments.js';
import type { Role } from '../tokens.js';

const idParams = z.object({ id: nameParam().describe('The experiment id.') });
const commentBody = z.object({ comment: storableString(2000).optional() }).strict();
const listQuery = z
  .object({
    status: storableString(40)
      .optional()
      .describe(`One of ${EXPERIMENT_STATES.join(', ')}.`),
  })
  .strict();
const readers: Role[] = ['operator', 'approver', 'auditor'];

/** Experiments (docs/experiments.md): proposed by one person, approved by another, shadow-tested, decided. */
export function registerExperimentRoutes(app: GatewayApp, ctx: GatewayContext, people: PeopleContext): void {
  const status = ok(experimentStatusSchema, 'The experiment after it.');

  app.post(
    '/v1/experiments',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['experiments'],
        summary: 'Propose an experiment',
        description: `The token's owner is the proposer (and so not its approver). ${rolesNote(['operator'])}`,
        body: proposeBody,
        response: {
          201: ok(z.object({ experimentId: z.string(), workflowId: z.string() }), 'Proposed.'),
          ...errorResponses(400, 401, 403, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const { expectedImprovement, ...rest } = request.body;
      const out = await people.experimentsFor(grantOf(request)).propose({
        ...rest,
        expectedImprovement: expectedImprovement ?? null,
        proposer: grantOf(request).name,
      });
      return reply.code(201).send(out);
    },
  );

  app.get(
    '/v1/experiments',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['experiments'],
        summary: 'List experiments',
        description: rolesNote(readers),
        querystring: listQuery,
        response: {
          200: ok(z.array(experimentSummarySchema), 'The experiments.'),
          ...errorResponses(400, 401, 403, 503),
        },
      },
    },
    async (request) => {
      const s = request.query.status;
      if (s && !(EXPERIMENT_STATES as readonly string[]).includes(s))
        throw new HttpError(400, `query.status=${JSON.stringify(s)}: use ${EXPERIMENT_STATES.join(', ')}`);
      return people.experimentsFor(grantOf(request)).list(s ? { status: s } : {});
    },
  );

  app.get(
    '/v1/experiments/:id',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['experiments'],
        summary: 'Show an experiment',
        description: rolesNote(readers),
        params: idParams,
        response: {
          200: ok(experimentStatusSchema, 'The experiment.'),
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request) => people.experimentsFor(grantOf(request)).status(request.params.id),
  );

  for (const verb of ['approve', 'reject'] as const)
    app.post(
      `/v1/experiments/:id/${verb}`,
      {
        onRequest: ctx.requireRole('approver'),
        schema: {
          tags: ['experiments'],
          summary: `${verb === 'approve' ? 'Approve' : 'Reject'} a proposed experiment`,
          description: `As the token's owner; its proposer may not approve it (409). ${rolesNote(['approver'])}`,
          params: idParams,
          body: commentBody,
          response: { 200: status, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
        },
      },
      async (request) => {
        const c = people.experimentsFor(grantOf(request));
        const a = {
          by: grantOf(request).name,
          ...(request.body.comment ? { comment: request.body.comment } : {}),
        };
        return verb === 'approve' ? c.approve(request.params.id, a) : c.reject(request.params.id, a);
      },
    );

  app.post(
    '/v1/experiments/:id/start',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['experiments'],
        summary: 'Start an approved experiment',
        description: `Its segments' shadow tests begin. ${rolesNote(['operator'])}`,
        params: idParams,
        body: z.object({}).strict().optional(),
        response: { 200: status, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request) =>
      people.experimentsFor(grantOf(request)).start(request.params.id, { by: grantOf(request).name }),
  );

  app.post(
    '/v1/experiments/:id/complete',
    {
      onRequest: ctx.requireRole('approver'),
      schema: {
        tags: ['experiments'],
        summary: 'Decide an experiment',
        description: `adopt (every segment's challenger rolls out), reject, or partial_adopt (the named segments). ${rolesNote(['approver'])}`,
        params: idParams,
        body: completeBody,
        response: { 200: status, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request) =>
      people.experimentsFor(grantOf(request)).complete(request.params.id, {
        by: grantOf(request).name,
        ...request.body,
      }),
  );
}
