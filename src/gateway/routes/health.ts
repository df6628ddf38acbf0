import { z } from 'zod';
import type { GatewayApp, GatewayContext } from '../context.js';
import type { TokenStore } from '../tokens.js';
import { errorResponses, ok } from '../schemas/common.js';

const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'unavailable']),
    database: z.object({ ok: z.boolean(), reason: z.string().optional() }),
    writers: z.object({ total: z.number().int(), degraded: z.number().int() }),
    routers: z.object({ total: z.number().int(), degraded: z.number().int() }),
    tenant: z
      .object({
        id: z.string(),
        writer: z.object({
          state: z.string(),
          reason: z.string().optional(),
          since: z.string().optional(),
        }),
        router: z
          .object({
            listening: z.boolean(),
            lastLoadAt: z.string().optional(),
            lastError: z.string().optional(),
            models: z.number().int(),
          })
          .nullable(),
      })
      .optional()
      .describe('Only with a valid token: that token’s own tenant.'),
  })
  .meta({ id: 'Health' });

/**
 * Health for load balancers and people, and Prometheus metrics. Without a token /healthz names no tenant or
 * model: the database's state and how many writers and routers are degraded. With any valid token it adds
 * the token's own tenant's writer and router. 503 when the database is unreachable, 200 otherwise
 * ("degraded" when a writer is).
 */
export function registerHealthRoutes(
  app: GatewayApp,
  ctx: GatewayContext,
  deps: { tokens: TokenStore; probeDatabase: () => Promise<{ ok: boolean; reason?: string }> },
): void {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Health',
        description:
          'No token needed. 200 when the database answers (status ok, or degraded when a writer is retrying or failing), 503 when it does not.',
        response: {
          200: ok(healthSchema, 'Healthy or degraded.'),
          503: ok(healthSchema, 'The database is unreachable.'),
        },
      },
    },
    async (request, reply) => {
      const database = await deps.probeDatabase();
      const writers = [...ctx.recorders()].map(([tenant, r]) => ({ tenant, ...r.health() }));
      const routerHealth = await Promise.all(
        [...ctx.routers()].map(async ([tenant, r]) => ({
          tenant,
          health: await r.then(
            (router) => router.health(),
            () => undefined,
          ),
        })),
      );
      const degradedWriters = writers.filter((w) => w.state !== 'ok').length;
      const staleRouters = routerHealth.filter((r) => !r.health || r.health.lastError !== undefined).length;
      const status = !database.ok ? 'unavailable' : degradedWriters > 0 ? 'degraded' : 'ok';
      const body: Record<string, unknown> = {
        status,
        database: database.ok ? { ok: true } : { ok: false, reason: 'unreachable' },
        writers: { total: writers.length, degraded: degradedWriters },
        routers: { total: routerHealth.length, degraded: staleRouters },
      };
      const grant = deps.tokens.authenticate(request.headers.authorization);
      if (grant) {
        const writer = writers.find((w) => w.tenant === grant.tenantId);
        const router = routerHealth.find((r) => r.tenant === grant.tenantId)?.health;
        body.database = database;
        body.tenant = {
          id: grant.tenantId,
          writer: writer
            ? { state: writer.state, reason: writer.reason, since: writer.since }
            : { state: 'idle', reason: undefined, since: undefined },
          router: router ?? null,
        };
      }
      return reply.code(database.ok ? 200 : 503).send(body as never);
    },
  );

  app.get(
    '/metrics',
    {
      onRequest: ctx.requireRole('metrics'),
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Ingestion counters, batch sizes, rejections by field, writer state and router generations, in the Prometheus text format. Requires a bearer token with the role `metrics` (they name tenants and models).',
        response: {
          200: {
            description: 'Prometheus text exposition format.',
            content: { 'text/plain': { schema: z.string() } },
          },
          ...errorResponses(401, 403),
        },
      },
    },
    async (_request, reply) => {
      const { metrics } = ctx;
      for (const [tenant, r] of ctx.recorders()) {
        const s = r.stats();
        metrics.buffered.set({ tenant }, s.buffered);
        metrics.refused.set({ tenant }, s.refused);
        metrics.failed.set({ tenant }, s.failed);
        metrics.writerDegraded.set({ tenant }, r.health().state === 'ok' ? 0 : 1);
      }
      for (const [tenant, routerPromise] of ctx.routers()) {
        const router = await routerPromise.catch(() => undefined);
        for (const e of router?.entries() ?? [])
          metrics.routerGeneration.set({ tenant, model: e.model }, e.generation);
      }
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    },
  );
}
