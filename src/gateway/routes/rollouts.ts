import { z } from 'zod';
import { parsePolicy } from '../../policy/policy.js';
import { loadRolloutReport } from '../../report/rollout-report-data.js';
import { renderRolloutReportHtml } from '../../report/rollout-report-html.js';
import { ROLLOUT_STATES } from '../../rollout/types.js';
import { storableString } from '../../validation/storable-string.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import { HttpError } from '../http-error.js';
import type { PeopleContext } from '../people-context.js';
import { errorResponses, nameParam, ok } from '../schemas/common.js';
import { rolloutStatusSchema, rolloutSummarySchema } from '../schemas/rollouts.js';
import type { Role } from '../tokens.js';

const idParams = z.object({ id: nameParam().describe('The rollout id.') });
const actionBody = z
  .object({
    comment: storableString(2000).optional(),
    reason: storableString(2000).optional(),
    reject: z
      .boolean()
      .optional()
      .describe(
        'abort only: also mark the version rejected (final); without it the version can be rolled out again.',
      ),
  })
  .strict();
const startBody = z
  .object({
    model: nameParam(100),
    challenger: nameParam(200).describe('A registered version of the model.'),
    policy: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'A policy (see the Policy component and docs/policies.md); fields left out take the defaults. Validated exactly as `arena rollout start --policy` does.',
      ),
  })
  .strict();
const listQuery = z
  .object({
    model: storableString(100).optional(),
    state: storableString(300)
      .optional()
      .describe(`Comma-separated states: ${ROLLOUT_STATES.join(', ')}.`),
    active: z.enum(['true', 'false']).optional().describe('Only rollouts that have not ended.'),
  })
  .strict();

const readers: Role[] = ['operator', 'approver', 'auditor'];

/** Rollouts: start, list, status, the people-in-the-loop actions, and the HTML report. */
export function registerRolloutRoutes(app: GatewayApp, ctx: GatewayContext, people: PeopleContext): void {
  app.post(
    '/v1/rollouts',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['rollouts'],
        summary: 'Start a rollout',
        description: `Proposes a rollout of \`challenger\` against the model's champion; the token's owner is the proposer (and so, by separation of duties, not an approver of it). 409 when the model already has an active rollout. ${rolesNote(['operator'])}`,
        body: startBody,
        response: {
          201: ok(
            z.object({ rolloutId: z.string(), workflowId: z.string() }).meta({ id: 'RolloutStarted' }),
            'Started.',
          ),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const grant = grantOf(request);
      const policy = parsePolicy(request.body.policy ?? {});
      const started = await people.arenaFor(grant).startRollout({
        model: request.body.model,
        challenger: request.body.challenger,
        policy,
        proposedBy: grant.name,
      });
      return reply.code(201).send(started);
    },
  );

  app.get(
    '/v1/rollouts',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['rollouts'],
        summary: 'List rollouts',
        description: `Newest first, at most 200. ${rolesNote(readers)}`,
        querystring: listQuery,
        response: {
          200: ok(z.array(rolloutSummarySchema), 'The rollouts.'),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { model, state, active } = request.query;
      const states = state?.split(',');
      for (const s of states ?? [])
        if (!(ROLLOUT_STATES as readonly string[]).includes(s))
          throw new HttpError(400, `query.state=${JSON.stringify(s)}: use ${ROLLOUT_STATES.join(', ')}`);
      const rows = await people.arenaFor(grantOf(request)).list({
        ...(model ? { model } : {}),
        ...(active === 'true' ? { active: true } : {}),
      });
      return rows
        .filter((r) => !states || states.includes(r.state))
        .map((r) => ({
          ...r,
          createdAt: r.createdAt.toISOString(),
          endedAt: r.endedAt?.toISOString() ?? null,
        }));
    },
  );

  app.get(
    '/v1/rollouts/:id',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['rollouts'],
        summary: 'Rollout status',
        description: `State, stage, the latest analysis with every metric's reason, approvals and recent events (the workflow's status query; from PostgreSQL once the history is gone). ${rolesNote(readers)}`,
        params: idParams,
        response: { 200: ok(rolloutStatusSchema, 'The status.'), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => people.arenaFor(grantOf(request)).status(request.params.id),
  );

  app.get(
    '/v1/rollouts/:id/report',
    {
      onRequest: ctx.requireRole(...readers),
      schema: {
        tags: ['rollouts'],
        summary: 'Rollout report (HTML)',
        description: `The self-contained HTML report of \`arena report\`: charts, decisions with their figures, actors. ${rolesNote(readers)}`,
        params: idParams,
        response: {
          200: {
            description: 'A self-contained HTML page.',
            content: { 'text/html': { schema: z.string() } },
          },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const data = await loadRolloutReport(people.knex, request.params.id, {
        tenantId: grantOf(request).tenantId,
      });
      return reply.type('text/html; charset=utf-8').send(renderRolloutReportHtml(data));
    },
  );

  const action = (
    name: 'approve' | 'reject' | 'pause' | 'resume' | 'abort' | 'promote',
    role: Role,
    does: string,
  ) =>
    app.post(
      `/v1/rollouts/:id/${name}`,
      {
        onRequest: ctx.requireRole(role),
        schema: {
          tags: ['rollouts'],
          summary: `${name[0]!.toUpperCase()}${name.slice(1)} a rollout`,
          description: `${does} The actor is the token's owner, never a field of the body. Refused in the wrong state, or (approve) by separation of duties or the approvers list: 409 with the reason. ${rolesNote([role])}`,
          params: idParams,
          body: actionBody,
          response: {
            200: ok(rolloutStatusSchema, 'Accepted: the status after it.'),
            ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503),
          },
        },
      },
      async (request) => {
        const { id } = request.params;
        const body = request.body;
        const grant = grantOf(request);
        const arena = people.arenaFor(grant);
        const reason = body.reason ?? body.comment;
        if (name === 'approve')
          return arena.approve(id, {
            by: grant.name,
            roles: grant.roles,
            ...(body.comment ? { comment: body.comment } : {}),
          });
        if (name === 'abort' && !reason) throw new HttpError(400, 'body.reason: an abort needs a reason');
        if (body.reject !== undefined && name !== 'abort')
          throw new HttpError(400, `body.reject: only an abort takes it (got it on ${name})`);
        if (name === 'abort')
          return arena.abort(id, {
            by: grant.name,
            reason: reason!,
            ...(body.reject ? { reject: true } : {}),
          });
        const input = { by: grant.name, ...(reason ? { reason } : {}) };
        return name === 'promote' ? arena.promoteNow(id, input) : arena[name](id, input);
      },
    );
  action(
    'approve',
    'approver',
    'Approves the rollout (or its promotion); `comment` is kept with the approval.',
  );
  action('reject', 'approver', 'Rejects the rollout (or its promotion) while it awaits approval.');
  action('pause', 'operator', 'Pauses a rollout in shadow, canary, deciding or watching.');
  action('resume', 'operator', 'Resumes a paused rollout.');
  action(
    'abort',
    'operator',
    'Aborts: before promotion routing returns to the champion and the version stays retryable (`reject: true` marks it rejected); during the watch the previous champion is restored. `reason` is required.',
  );
  action('promote', 'operator', 'Skips the remaining stages and promotes now.');

  app.post(
    '/v1/rollouts/:id/retry',
    {
      onRequest: ctx.requireRole('operator'),
      schema: {
        tags: ['rollouts'],
        summary: 'Retry a rollout',
        description: `Starts a new rollout of an aborted, expired or rolled-back rollout's version, with its policy; the new rollout's \`retryOf\` links the two and the audit log records it. The token's owner is the proposer. 409 while the rollout runs, after it promoted, or when the model has another active rollout; 400 when the version was rejected. ${rolesNote(['operator'])}`,
        params: idParams,
        body: z
          .object({ reason: storableString(2000).optional() })
          .strict()
          .optional(),
        response: {
          201: ok(
            z
              .object({ rolloutId: z.string(), workflowId: z.string(), retryOf: z.string() })
              .meta({ id: 'RolloutRetried' }),
            'Started.',
          ),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const grant = grantOf(request);
      const reason = request.body?.reason;
      const started = await people
        .arenaFor(grant)
        .retry(request.params.id, { by: grant.name, ...(reason ? { reason } : {}) });
      return reply.code(201).send({ ...started, retryOf: request.params.id });
    },
  );
}
