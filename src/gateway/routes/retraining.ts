import { z } from 'zod';
import { getRetrainJob, listRetrainJobs } from '../../retrain/job-store.js';
import { retrainJobView } from '../../retrain/job-view.js';
import { startRetrain } from '../../retrain/launcher.js';
import { RETRAIN_STATUSES, RETRAIN_TRIGGERS, retrainWorkflowId } from '../../retrain/types.js';
import { storableString } from '../../validation/storable-string.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import { HttpError } from '../http-error.js';
import { limitParam } from '../request-validation.js';
import type { PeopleContext } from '../people-context.js';
import { errorResponses, nameParam, ok } from '../schemas/common.js';
import type { Role } from '../tokens.js';

const jobSchema = z
  .object({
    jobId: z.string(),
    model: z.string(),
    trigger: z.enum(RETRAIN_TRIGGERS),
    status: z.enum(RETRAIN_STATUSES),
    backend: z.string(),
    candidate: z.string().nullable().describe('The version it registered, once trained.'),
    metrics: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe('Validation figures: candidate, champion, improvement.'),
    error: z.string().nullable(),
    createdAt: z.string(),
    deployedAt: z.string().nullable().describe('When the candidate became champion; null until then.'),
    seconds: z.number().nullable(),
  })
  .meta({ id: 'RetrainJob' });

const startBody = z
  .object({
    trigger: z.enum(RETRAIN_TRIGGERS).default('manual'),
    reason: storableString(2000).optional(),
  })
  .strict();
const jobParams = z.object({ jobId: nameParam().describe('The job id.') });
const listQuery = z
  .object({
    model: storableString(100).optional(),
    limit: storableString(10).optional().describe('1..1000 (default 50).'),
  })
  .strict();
const readers: Role[] = ['operator', 'approver', 'registrar', 'auditor'];

/**
 * Retraining jobs (docs/retraining.md): start one with the model's stored configuration, follow it, cancel
 * it. The training configuration itself is set from the CLI only (`arena retrain configure`): it names a
 * command the workers run, which no HTTP token should be able to choose.
 */
export function registerRetrainingRoutes(app: GatewayApp, ctx: GatewayContext, people: PeopleContext): void {
  const jobOf = async (jobId: string, tenantId: string) => {
    const row = await getRetrainJob(people.knex, jobId, tenantId);
    if (!row) throw new HttpError(404, `No retraining job ${jobId}`, 'List them: GET /v1/retraining');
    return row;
  };

  app.post(
    '/v1/models/:model/retrain',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['retraining'],
        summary: 'Start a retraining job',
        description: `Trains a candidate with the model's training configuration, validates it against the champion, registers it and rolls it out. 409 when the model has no configuration or already has an active job. ${rolesNote(['operator'])}`,
        params: z.object({ model: nameParam(100) }),
        body: startBody,
        response: {
          201: ok(z.object({ jobId: z.string(), workflowId: z.string() }), 'Started.'),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const grant = grantOf(request);
      const t = people.temporal;
      if (!t)
        throw new HttpError(
          503,
          'this gateway has no Temporal connection',
          'Start it with the Temporal endpoint configured (arena gateway).',
        );
      const started = await startRetrain(people.knex, t, {
        tenantId: grant.tenantId,
        model: request.params.model,
        trigger: request.body.trigger,
        reason: request.body.reason ?? `${request.body.trigger} retrain`,
        requestedBy: grant.name,
      });
      return reply.code(201).send(started);
    },
  );

  app.get(
    '/v1/retraining',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['retraining'],
        summary: 'List retraining jobs',
        description: `Newest first. ${rolesNote(readers)}`,
        querystring: listQuery,
        response: { 200: ok(z.array(jobSchema), 'The jobs.'), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const limit = limitParam(request.query.limit, { min: 1, max: 1000 }, 50);
      const rows = await listRetrainJobs(people.knex, {
        model: request.query.model,
        limit,
        tenantId: grantOf(request).tenantId,
      });
      return rows.map(retrainJobView);
    },
  );

  app.get(
    '/v1/retraining/:jobId',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['retraining'],
        summary: 'Show a retraining job',
        description: rolesNote(readers),
        params: jobParams,
        response: { 200: ok(jobSchema, 'The job.'), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => retrainJobView(await jobOf(request.params.jobId, grantOf(request).tenantId)),
  );

  app.post(
    '/v1/retraining/:jobId/cancel',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['retraining'],
        summary: 'Cancel a retraining job',
        description: `Requests cancellation: its training process is killed and the job ends failed. ${rolesNote(['operator'])}`,
        params: jobParams,
        response: {
          202: ok(z.object({ jobId: z.string(), cancelled: z.literal(true) }), 'Cancellation requested.'),
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const row = await jobOf(request.params.jobId, grantOf(request).tenantId);
      await people
        .requireTemporal()
        .client.workflow.getHandle(retrainWorkflowId(row.tenant_id, row.model, row.id))
        .cancel();
      return reply.code(202).send({ jobId: row.id, cancelled: true as const });
    },
  );
}
