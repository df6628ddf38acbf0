import { z } from 'zod';
import { approveAlert } from '../../alerts/alert-actions.js';
import {
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  alertStats,
  getAlert,
  listAlerts,
  moveAlert,
} from '../../alerts/alert-store.js';
import { storableString } from '../../validation/storable-string.js';
import { bigintId, strictInteger } from '../../validation/strict.js';
import { grantOf, rolesNote } from '../access.js';
import type { GatewayApp, GatewayContext } from '../context.js';
import { HttpError } from '../http-error.js';
import type { PeopleContext } from '../people-context.js';
import { alertApprovalSchema, alertSchema, alertStatsSchema } from '../schemas/alerts.js';
import { errorResponses, nameParam, ok } from '../schemas/common.js';

const idParams = z.object({ id: nameParam().describe('The alert id (decimal digits).') });
const noteBody = z
  .object({ comment: storableString(2000).optional(), reason: storableString(2000).optional() })
  .strict();
const listQuery = z
  .object({
    status: storableString(200)
      .optional()
      .describe(`Comma-separated: ${ALERT_STATUSES.join(', ')} (default unread,read).`),
    severity: storableString(200)
      .optional()
      .describe(`Comma-separated: ${ALERT_SEVERITIES.join(', ')}.`),
    type: storableString(100).optional(),
    model: storableString(200).optional(),
    /** Decimal digits only (not 1e2, 0x2 or 2.0); checked by strictInteger below. */
    limit: storableString(40).optional().describe('1..1000'),
  })
  .strict();
const LIST_LIMIT = { min: 1, max: 1000 };

const listOf = <T extends string>(
  field: string,
  text: string | undefined,
  allowed: readonly T[],
): T[] | undefined => {
  if (!text) return undefined;
  const values = text.split(',');
  for (const v of values)
    if (!allowed.includes(v as T))
      throw new HttpError(400, `query.${field}=${JSON.stringify(v)}: use ${allowed.join(', ')}`);
  return values as T[];
};

/** Alert ids are bigint: decimal digits, 1..9223372036854775807, kept as a string past 2^53. */
const alertId = (id: string): string => {
  const parsed = bigintId(id);
  if (!parsed.ok) throw new HttpError(400, `params.id=${JSON.stringify(id)}: ${parsed.reason}`);
  return parsed.value;
};

/** Alerts people act on (docs/alerts-and-notifications.md); every read and move is scoped to the token's tenant. */
export function registerAlertRoutes(app: GatewayApp, ctx: GatewayContext, people: PeopleContext): void {
  const readers = ['operator', 'approver'] as const;
  const read = { onRequest: ctx.requireRole(...readers) };
  const common = errorResponses(400, 401, 403, 404);

  app.get(
    '/v1/alerts',
    {
      ...read,
      schema: {
        tags: ['alerts'],
        summary: 'List alerts',
        description: `Newest first. ${rolesNote([...readers])}`,
        querystring: listQuery,
        response: { 200: ok(z.array(alertSchema), 'The alerts.'), ...common },
      },
    },
    async (request) => {
      const q = request.query;
      let limit: number | undefined;
      if (q.limit !== undefined) {
        const parsed = strictInteger(q.limit, LIST_LIMIT);
        if (!parsed.ok) throw new HttpError(400, `query.limit=${JSON.stringify(q.limit)}: ${parsed.reason}`);
        limit = parsed.value;
      }
      return listAlerts(people.knex, {
        tenantId: grantOf(request).tenantId,
        status: listOf('status', q.status, ALERT_STATUSES) ?? ['unread', 'read'],
        ...(q.severity ? { severity: listOf('severity', q.severity, ALERT_SEVERITIES)! } : {}),
        ...(q.type ? { type: q.type } : {}),
        ...(q.model ? { model: q.model } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
    },
  );
  app.get(
    '/v1/alerts/stats',
    {
      ...read,
      schema: {
        tags: ['alerts'],
        summary: 'Alert counts by severity',
        description: rolesNote([...readers]),
        response: { 200: ok(alertStatsSchema, 'Unread and open counts.'), ...errorResponses(401, 403) },
      },
    },
    async (request) => alertStats(people.knex, grantOf(request).tenantId),
  );
  app.get(
    '/v1/alerts/:id',
    {
      ...read,
      schema: {
        tags: ['alerts'],
        summary: 'Read one alert',
        description: rolesNote([...readers]),
        params: idParams,
        response: { 200: ok(alertSchema, 'The alert.'), ...common },
      },
    },
    async (request) => getAlert(people.knex, alertId(request.params.id), grantOf(request).tenantId),
  );
  app.post(
    '/v1/alerts/:id/read',
    {
      ...read,
      schema: {
        tags: ['alerts'],
        summary: 'Mark an alert read',
        description: rolesNote([...readers]),
        params: idParams,
        response: {
          200: ok(alertSchema, 'The alert, now read.'),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) =>
      moveAlert(people.knex, {
        tenantId: grantOf(request).tenantId,
        id: alertId(request.params.id),
        to: 'read',
        actor: grantOf(request).name,
      }),
  );
  app.post(
    '/v1/alerts/:id/dismiss',
    {
      ...read,
      schema: {
        tags: ['alerts'],
        summary: 'Dismiss an alert',
        description: rolesNote([...readers]),
        params: idParams,
        body: noteBody,
        response: {
          200: ok(alertSchema, 'The alert, now dismissed.'),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415),
        },
      },
    },
    async (request) =>
      moveAlert(people.knex, {
        tenantId: grantOf(request).tenantId,
        id: alertId(request.params.id),
        to: 'dismissed',
        actor: grantOf(request).name,
        ...(request.body.reason ? { reason: request.body.reason } : {}),
      }),
  );
  app.post(
    '/v1/alerts/:id/approve',
    {
      onRequest: ctx.requireRole('approver'),
      schema: {
        tags: ['alerts'],
        summary: 'Approve what an alert asks for',
        description: `Sends the rollout the approval (or promote-now) the alert asks for, as the token's owner; the rollout's own rules decide (409 with the reason when refused). ${rolesNote(['approver'])}`,
        params: idParams,
        body: noteBody,
        response: {
          200: ok(alertApprovalSchema, 'The alert, actioned, and the rollout’s state.'),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503),
        },
      },
    },
    async (request) => {
      const grant = grantOf(request);
      return approveAlert(people.knex, people.arenaFor(grant), {
        id: alertId(request.params.id),
        by: grant.name,
        roles: grant.roles,
        tenantId: grant.tenantId,
        ...(request.body.comment ? { comment: request.body.comment } : {}),
      });
    },
  );
}
