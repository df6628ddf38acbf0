import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { z } from 'zod';
import pg from 'pg';
import { createRecorder, type Recorder } from '../ingest/recorder.js';
import type { TimeWindow } from '../ingest/limits.js';
import { WriteFailedError, isDatabaseUnavailable } from '../ingest/write-errors.js';
import type { Logger } from '../log.js';
import { UserFacingError } from '../errors.js';
import { createRouter, type Router } from '../routing/router.js';
import { HTTP_STATUS } from './error-status.js';
import { createGatewayMetrics, rejectionLabel } from './metrics.js';
import { registerPeopleRoutes, type PeopleRoutesOptions } from './people-routes.js';
import type { Role, TokenGrant, TokenStore } from './tokens.js';

export interface GatewayOptions {
  databaseUrl: string;
  tokens: TokenStore;
  /** Largest request body accepted (bytes); larger ones get 413. */
  bodyLimit?: number;
  /** Most records per ingestion request. */
  maxBatch?: number;
  /** Rollup bucket width (must match the workers' ARENA_ROLLUP_BUCKET_SECONDS). */
  bucketSeconds?: number;
  /**
   * How long an ingestion request waits while the database is unreachable before it answers 503 (default
   * 10 s): its records are then neither acknowledged nor kept, and sending them again is safe.
   */
  retryForMs?: number;
  /** On close, writes still running after this long are given up (default 10 s); see Recorder.close. */
  shutdownTimeoutMs?: number;
  /** Plausibility window of the records' `at` (default 10 years back, 30 days ahead). */
  timeWindow?: TimeWindow;
  log?: Logger;
  /**
   * The people-facing endpoints (alerts, rollout status and actions, model health) need the database
   * through knex and, for actions, Temporal; without `people` the gateway serves ingestion only.
   */
  people?: Omit<PeopleRoutesOptions, 'requireRole' | 'httpError'>;
}

declare module 'fastify' {
  interface FastifyRequest {
    grant?: TokenGrant;
  }
}

const routeBodySchema = z
  .object({
    model: z.string().min(1),
    requestId: z.string().min(1).max(200),
    unit: z.string().min(1).max(200).optional(),
    segments: z.record(z.string(), z.string()).optional(),
  })
  .strict();

class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * The HTTP gateway: routing decisions and ingestion for model servers, with bearer tokens carrying a tenant
 * and roles. Ingestion answers after the records are stored (durable), with per-record rejections.
 */
export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const maxBatch = options.maxBatch ?? 10_000;
  const metrics = createGatewayMetrics();
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 5 * 1024 * 1024, logger: false });
  const recorders = new Map<string, Recorder>();
  const routers = new Map<string, Promise<Router>>();
  // One small pool of its own for /healthz, so a probe never waits behind ingestion for a connection.
  const probePool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: 1,
    connectionTimeoutMillis: 2_000,
    statement_timeout: 2_000,
    query_timeout: 3_000,
  });
  probePool.on('error', () => undefined);
  const probeDatabase = async (): Promise<{ ok: boolean; reason?: string }> => {
    try {
      await probePool.query('select 1');
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  };

  const recorderFor = (tenantId: string): Recorder => {
    let r = recorders.get(tenantId);
    if (!r) {
      r = createRecorder({
        databaseUrl: options.databaseUrl,
        tenantId,
        enforceTenant: true,
        flushIntervalMs: 5,
        retryForMs: options.retryForMs ?? 10_000,
        ...(options.timeWindow ? { timeWindow: options.timeWindow } : {}),
        ...(options.bucketSeconds ? { bucketSeconds: options.bucketSeconds } : {}),
        ...(options.log ? { log: options.log } : {}),
      });
      recorders.set(tenantId, r);
    }
    return r;
  };
  const routerFor = (tenantId: string): Promise<Router> => {
    let r = routers.get(tenantId);
    if (!r) {
      r = createRouter({
        databaseUrl: options.databaseUrl,
        tenantId,
        ...(options.log ? { log: options.log } : {}),
      });
      r.catch(() => routers.delete(tenantId));
      routers.set(tenantId, r);
    }
    return r;
  };

  const requireRole =
    (...roles: Role[]) =>
    async (request: FastifyRequest): Promise<void> => {
      const grant = options.tokens.authenticate(request.headers.authorization);
      if (!grant)
        throw new HttpError(
          401,
          'missing or unknown bearer token',
          'Send Authorization: Bearer <token> with a configured token.',
        );
      if (!roles.some((r) => grant.roles.includes(r))) {
        throw new HttpError(403, `token "${grant.name}" lacks the role ${roles.join(' or ')}`);
      }
      request.grant = grant;
    };

  const unavailableHint =
    'Nothing of this request was stored or acknowledged; send it again later (stored records are recognised by their keys, so a retry never counts twice). GET /healthz shows the state.';
  app.setErrorHandler((err: FastifyError | HttpError | UserFacingError, _request, reply: FastifyReply) => {
    if (err instanceof WriteFailedError) {
      if (err.kind === 'batch') {
        options.log?.error({ err: err.message }, 'gateway: the database refused a write');
        return reply.code(500).send({
          error: err.message,
          hint: 'The database refused the write as a whole (not because of a record): check that `arena db migrate` ran and the gateway’s database role; nothing was acknowledged.',
        });
      }
      return reply.code(503).header('retry-after', '5').send({ error: err.message, hint: unavailableHint });
    }
    if (isDatabaseUnavailable(err))
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ error: `the database is unavailable: ${err.message}`, hint: unavailableHint });
    if (err instanceof HttpError)
      return reply.code(err.statusCode).send({ error: err.message, ...(err.hint ? { hint: err.hint } : {}) });
    // Refused actions (an Update's validator, an alert already closed, an unknown id) are the caller's to fix.
    if (err instanceof UserFacingError)
      return reply.code(HTTP_STATUS[err.code]).send({ error: err.message, hint: err.hint, code: err.code });
    const fe = err as FastifyError;
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      return reply.code(413).send({
        error: `body larger than ${options.bodyLimit ?? 5 * 1024 * 1024} bytes`,
        hint: 'Send smaller batches.',
      });
    if (fe.statusCode && fe.statusCode < 500) return reply.code(fe.statusCode).send({ error: fe.message });
    options.log?.error({ err: fe.message }, 'gateway: unexpected error');
    return reply.code(500).send({ error: 'internal error' });
  });

  const records = (body: unknown): unknown[] => {
    const list = Array.isArray(body) ? body : (body as { records?: unknown } | null)?.records;
    if (!Array.isArray(list))
      throw new HttpError(400, 'body must be a JSON array of records or { "records": [...] }');
    if (list.length > maxBatch)
      throw new HttpError(
        413,
        `${list.length} records in one request; at most ${maxBatch}`,
        'Split the batch.',
      );
    return list;
  };

  /**
   * Health for load balancers and people. Without a token it names no tenant or model: the database's state
   * and how many writers and routers are degraded. With any valid token it adds the token's own tenant's
   * writer and router. 503 when the database is unreachable, 200 otherwise ("degraded" when a writer is).
   */
  app.get('/healthz', async (request, reply) => {
    const database = await probeDatabase();
    const writers = [...recorders.entries()].map(([tenant, r]) => ({ tenant, ...r.health() }));
    const routerHealth = await Promise.all(
      [...routers.entries()].map(async ([tenant, r]) => ({
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
    const grant = options.tokens.authenticate(request.headers.authorization);
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
    return reply.code(database.ok ? 200 : 503).send(body);
  });

  app.get('/metrics', { preHandler: requireRole('metrics') }, async (_request, reply) => {
    for (const [tenant, r] of recorders) {
      const s = r.stats();
      metrics.buffered.set({ tenant }, s.buffered);
      metrics.refused.set({ tenant }, s.refused);
      metrics.failed.set({ tenant }, s.failed);
      metrics.writerDegraded.set({ tenant }, r.health().state === 'ok' ? 0 : 1);
    }
    for (const [tenant, routerPromise] of routers) {
      const router = await routerPromise.catch(() => undefined);
      for (const e of router?.entries() ?? [])
        metrics.routerGeneration.set({ tenant, model: e.model }, e.generation);
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.post('/v1/route', { preHandler: requireRole('ingest', 'operator') }, async (request) => {
    const parsed = routeBodySchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`);
    }
    const tenantId = request.grant!.tenantId;
    const decision = (await routerFor(tenantId)).route(parsed.data.model, parsed.data.requestId, {
      unit: parsed.data.unit,
      segments: parsed.data.segments,
    });
    metrics.routeDecisions.inc({ tenant: tenantId, model: parsed.data.model, via: decision.via });
    return decision;
  });

  for (const kind of ['predictions', 'feedback'] as const) {
    app.post(`/v1/${kind}`, { preHandler: requireRole('ingest') }, async (request) => {
      const list = records(request.body);
      const tenantId = request.grant!.tenantId;
      const recorder = recorderFor(tenantId);
      const outcome =
        kind === 'predictions'
          ? await recorder.recordPredictions(list, { durable: true })
          : await recorder.recordFeedbackBatch(list, { durable: true });
      metrics.batchSize.observe({ kind }, list.length);
      metrics.records.inc({ kind, tenant: tenantId }, outcome.accepted);
      for (const r of outcome.rejected)
        metrics.rejects.inc({ kind, tenant: tenantId, field: rejectionLabel(kind, r.field) });
      return outcome;
    });
  }

  if (options.people)
    registerPeopleRoutes(app, {
      ...options.people,
      requireRole,
      httpError: (status, message, hint) => new HttpError(status, message, hint),
    });

  // Shutdown in bounded time. Fastify's close waits for every open connection before its onClose hooks run,
  // so the recorders are closed before that, in preClose: writes still running after the timeout are given
  // up, which answers their waiting requests (503, not acknowledged). Responses sent while closing carry
  // `Connection: close`, so no keep-alive connection holds the close for its idle timeout afterwards.
  let closing = false;
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
  app.addHook('preClose', async () => {
    closing = true;
    const timeoutMs = options.shutdownTimeoutMs ?? 10_000;
    await Promise.all(
      [...recorders.values()].map((r) =>
        r.close({ timeoutMs }).catch((err: Error) => {
          options.log?.warn({ err: err.message }, 'gateway: records not stored at shutdown');
        }),
      ),
    );
    // Connections still open now are idle keep-alives or requests about to be answered; give the latter a
    // moment, then close whatever is left.
    setTimeout(() => app.server.closeAllConnections(), 1_000).unref();
  });
  app.addHook('onClose', async () => {
    await probePool.end().catch(() => undefined);
    await Promise.all([...routers.values()].map(async (r) => (await r.catch(() => undefined))?.close()));
  });
  return app;
}
