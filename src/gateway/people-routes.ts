import type { Client } from '@temporalio/client';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Knex } from 'knex';
import { z } from 'zod';
import { approveAlert } from '../alerts/alert-actions.js';
import {
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  alertStats,
  getAlert,
  listAlerts,
  moveAlert,
} from '../alerts/alert-store.js';
import { ArenaClient } from '../client/arena-client.js';
import { modelHealth } from '../health/model-health.js';
import { storableString } from '../validation/storable-string.js';
import { bigintId, strictInteger } from '../validation/strict.js';
import type { Role, TokenGrant } from './tokens.js';

export interface PeopleRoutesOptions {
  knex: Knex;
  /** Rollout actions and alert approvals need Temporal; without it they answer 503. */
  temporal?: { client: Client; taskQueue: string };
  requireRole: (...roles: Role[]) => (request: FastifyRequest) => Promise<void>;
  httpError: (status: number, message: string, hint?: string) => Error;
}

/**
 * Text that reaches the database is refused with a 400 before it gets there if PostgreSQL could not store
 * it (a NUL byte, `%00` in a path, or a lone UTF-16 surrogate), which would otherwise surface as a 500.
 */
const storable = storableString;

const idParams = z.object({ id: storable(300).pipe(z.string().min(1)) });
const actionBody = z
  .object({ comment: storable(2000).optional(), reason: storable(2000).optional() })
  .strict();
const listQuery = z
  .object({
    status: storable(200).optional(),
    severity: storable(200).optional(),
    type: storable(100).optional(),
    model: storable(200).optional(),
    /** Decimal digits only (not 1e2, 0x2 or 2.0); checked by strictInteger below. */
    limit: storable(40).optional(),
  })
  .strict();
const LIST_LIMIT = { min: 1, max: 1000 };

/**
 * The people-facing endpoints: alerts (list, stats, read, approve, dismiss), rollout status and actions,
 * model health. The tenant comes from the token and every read and write is scoped to it; the actor is
 * the token's name, never a field of the body, so nobody can approve in someone else's name.
 */
export function registerPeopleRoutes(app: FastifyInstance, o: PeopleRoutesOptions): void {
  const parse = <T>(schema: z.ZodType<T>, value: unknown, where: string): T => {
    const r = schema.safeParse(value ?? {});
    if (r.success) return r.data;
    const issue = r.error.issues[0]!;
    // Name the parameter and, when it is text or a number, the value as sent (JSON-escaped: a NUL shows as \u0000).
    let at: unknown = value;
    for (const k of issue.path) at = (at as Record<PropertyKey, unknown> | null | undefined)?.[k];
    const shown = typeof at === 'string' || typeof at === 'number' ? `=${JSON.stringify(at)}` : '';
    throw o.httpError(
      400,
      `${where}${issue.path.length ? `.${issue.path.join('.')}` : ''}${shown}: ${issue.message}`,
    );
  };
  const grantOf = (request: FastifyRequest): TokenGrant => request.grant!;
  const arenaFor = (grant: TokenGrant): ArenaClient => {
    if (!o.temporal)
      throw o.httpError(
        503,
        'this gateway has no Temporal connection',
        'Start it with the Temporal endpoint configured (arena gateway).',
      );
    return new ArenaClient({
      temporal: o.temporal.client,
      knex: o.knex,
      taskQueue: o.temporal.taskQueue,
      tenantId: grant.tenantId,
    });
  };
  const listOf = <T extends string>(
    field: string,
    text: string | undefined,
    allowed: readonly T[],
  ): T[] | undefined => {
    if (!text) return undefined;
    const values = text.split(',');
    for (const v of values)
      if (!allowed.includes(v as T))
        throw o.httpError(400, `${field}=${JSON.stringify(v)}: use ${allowed.join(', ')}`);
    return values as T[];
  };
  /** Alert ids are bigint: decimal digits, 1..9223372036854775807, kept as a string past 2^53. */
  const alertId = (request: FastifyRequest): string => {
    const { id } = parse(idParams, request.params, 'params');
    const parsed = bigintId(id);
    if (!parsed.ok) throw o.httpError(400, `params.id=${JSON.stringify(id)}: ${parsed.reason}`);
    return parsed.value;
  };
  const readers = { preHandler: o.requireRole('operator', 'approver') };

  app.get('/v1/alerts', readers, async (request) => {
    const q = parse(listQuery, request.query, 'query');
    let limit: number | undefined;
    if (q.limit !== undefined) {
      const parsed = strictInteger(q.limit, LIST_LIMIT);
      if (!parsed.ok) throw o.httpError(400, `query.limit=${JSON.stringify(q.limit)}: ${parsed.reason}`);
      limit = parsed.value;
    }
    return listAlerts(o.knex, {
      tenantId: grantOf(request).tenantId,
      status: listOf('status', q.status, ALERT_STATUSES) ?? ['unread', 'read'],
      ...(q.severity ? { severity: listOf('severity', q.severity, ALERT_SEVERITIES)! } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(q.model ? { model: q.model } : {}),
      ...(limit !== undefined ? { limit } : {}),
    });
  });
  app.get('/v1/alerts/stats', readers, async (request) => alertStats(o.knex, grantOf(request).tenantId));
  app.get('/v1/alerts/:id', readers, async (request) =>
    getAlert(o.knex, alertId(request), grantOf(request).tenantId),
  );
  app.post('/v1/alerts/:id/read', readers, async (request) =>
    moveAlert(o.knex, {
      tenantId: grantOf(request).tenantId,
      id: alertId(request),
      to: 'read',
      actor: grantOf(request).name,
    }),
  );
  app.post('/v1/alerts/:id/dismiss', readers, async (request) => {
    const body = parse(actionBody, request.body, 'body');
    return moveAlert(o.knex, {
      tenantId: grantOf(request).tenantId,
      id: alertId(request),
      to: 'dismissed',
      actor: grantOf(request).name,
      ...(body.reason ? { reason: body.reason } : {}),
    });
  });
  app.post('/v1/alerts/:id/approve', { preHandler: o.requireRole('approver') }, async (request) => {
    const body = parse(actionBody, request.body, 'body');
    const grant = grantOf(request);
    return approveAlert(o.knex, arenaFor(grant), {
      id: alertId(request),
      by: grant.name,
      roles: grant.roles,
      tenantId: grant.tenantId,
      ...(body.comment ? { comment: body.comment } : {}),
    });
  });

  app.get('/v1/rollouts/:id', readers, async (request) => {
    const { id } = parse(idParams, request.params, 'params');
    return arenaFor(grantOf(request)).status(id);
  });
  const rolloutAction = (name: 'approve' | 'reject' | 'pause' | 'resume' | 'abort' | 'promote', role: Role) =>
    app.post(`/v1/rollouts/:id/${name}`, { preHandler: o.requireRole(role) }, async (request) => {
      const { id } = parse(idParams, request.params, 'params');
      const body = parse(actionBody, request.body, 'body');
      const grant = grantOf(request);
      const arena = arenaFor(grant);
      const reason = body.reason ?? body.comment;
      if (name === 'approve')
        return arena.approve(id, {
          by: grant.name,
          roles: grant.roles,
          ...(body.comment ? { comment: body.comment } : {}),
        });
      if (name === 'abort' && !reason) throw o.httpError(400, 'body.reason: an abort needs a reason');
      const input = { by: grant.name, ...(reason ? { reason } : {}) };
      return name === 'promote' ? arena.promoteNow(id, input) : arena[name](id, input);
    });
  rolloutAction('approve', 'approver');
  rolloutAction('reject', 'approver');
  for (const n of ['pause', 'resume', 'abort', 'promote'] as const) rolloutAction(n, 'operator');

  app.get('/v1/models/:id/health', readers, async (request) =>
    modelHealth(o.knex, parse(idParams, request.params, 'params').id, {
      tenantId: grantOf(request).tenantId,
    }),
  );
}
