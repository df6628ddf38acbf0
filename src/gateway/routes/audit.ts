import { z } from 'zod';
import { readAuditLog } from '../../audit/audit-log.js';
import { storableString } from '../../validation/storable-string.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import type { PeopleContext } from '../people-context.js';
import { limitParam } from '../request-validation.js';
import { errorResponses, ok } from '../schemas/common.js';

const auditQuery = z
  .object({
    model: storableString(100)
      .optional()
      .describe('Rows about this model: itself, its versions, routing and rollouts.'),
    since: z.iso.datetime({ offset: true }).optional(),
    entityType: storableString(100)
      .optional()
      .describe('rollout, model_version, routing, experiment, retraining_job, …'),
    actor: storableString(200).optional(),
    limit: storableString(10).optional().describe('1..10000 (default 1000).'),
  })
  .strict();

const auditEntrySchema = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    entity: z.string().describe('type:id'),
    evidence: z.string().describe('One line on the evidence behind the action.'),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

/** The hash-chained ledger, read-only, for auditors: "who approved what, on which evidence". */
export function registerAuditRoutes(app: GatewayApp, ctx: GatewayContext, people: PeopleContext): void {
  app.get(
    '/v1/audit',
    {
      onRequest: ctx.requireRole('auditor'),
      schema: {
        tags: ['audit'],
        summary: 'Read the audit log',
        description: `Oldest first. ${rolesNote(['auditor'])}`,
        querystring: auditQuery,
        response: {
          200: ok(z.array(auditEntrySchema), 'The ledger rows.'),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const limit = limitParam(q.limit, { min: 1, max: 10_000 }, 1000);
      return readAuditLog(people.knex, {
        tenantId: grantOf(request).tenantId,
        limit,
        ...(q.model ? { model: q.model } : {}),
        ...(q.since ? { since: new Date(q.since) } : {}),
        ...(q.entityType ? { entityType: q.entityType } : {}),
        ...(q.actor ? { actor: q.actor } : {}),
      });
    },
  );
}
