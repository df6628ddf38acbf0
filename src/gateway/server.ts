import { FastifyOtelInstrumentation } from '@fastify/otel';
import Fastify, { type FastifyError, type FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import pg from 'pg';
import { createRecorder, type Recorder } from '../ingest/recorder.js';
import type { TimeWindow } from '../ingest/limits.js';
import { WriteFailedError, isDatabaseUnavailable } from '../ingest/write-errors.js';
import type { Logger } from '../log.js';
import { UserFacingError } from '../errors.js';
import { createRouter, type Router } from '../routing/router.js';
import { activeTracing } from '../tracing/tracing.js';
import { createRequireRole } from './access.js';
import type { GatewayApp, GatewayContext } from './context.js';
import { HTTP_STATUS } from './error-status.js';
import { HttpError } from './http-error.js';
import { createGatewayMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { createPeopleContext, type PeopleOptions } from './people-context.js';
import { zodValidatorCompiler } from './request-validation.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerAuditRoutes } from './routes/audit.js';
import { registerExperimentRoutes } from './routes/experiments.js';
import { registerRetrainingRoutes } from './routes/retraining.js';
import { registerEvidenceRoutes } from './routes/evidence.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerIngestRoutes } from './routes/ingest.js';
import { registerModelRoutes } from './routes/models.js';
import { registerRolloutRoutes } from './routes/rollouts.js';
import { registerRoutingRoutes } from './routes/routing.js';
import type { TokenStore } from './tokens.js';

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
   * The lifecycle endpoints (registry, routing table, rollouts and their actions, alerts, audit) need the
   * database through knex and, for rollouts, Temporal; without `people` the gateway serves routing
   * decisions and ingestion only.
   */
  people?: PeopleOptions;
}

/**
 * The HTTP gateway: routing decisions and ingestion for model servers, with bearer tokens carrying a tenant
 * and roles. Ingestion answers after the records are stored (durable), with per-record rejections.
 */
export async function buildGateway(options: GatewayOptions): Promise<GatewayApp> {
  const maxBatch = options.maxBatch ?? 10_000;
  const metrics = createGatewayMetrics();
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 5 * 1024 * 1024,
    logger: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(zodValidatorCompiler);
  // With tracing on, a span per request (continuing a caller's `traceparent`), active while the handler
  // runs, so a rollout started over HTTP is one trace from the request to the workflow's activities.
  // Registered before any route: the plugin wraps routes as they are added.
  if (activeTracing())
    await app.register(
      new FastifyOtelInstrumentation({
        // One span per request: no child spans per hook or for the handler (whose name lists every plugin).
        instrumentHooks: false,
        instrumentHandler: false,
        ignorePaths: '/healthz',
        // The plugin names every request span "request"; a trace view reads better with the route.
        requestHook: (span, req) => span.updateName(`${req.method} ${req.routeOptions.url ?? req.url}`),
      }).plugin(),
    );
  // Responses are documented by their schemas, not coerced through them: a response that drifted from the
  // document fails the contract test (test/support/contract.ts) rather than a caller at run time.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
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

  const requireRole = createRequireRole(options.tokens);

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

  const ctx: GatewayContext = {
    recorderFor,
    routerFor,
    recorders: () => recorders.entries(),
    routers: () => routers.entries(),
    metrics,
    requireRole,
    maxBatch,
    log: options.log,
  };
  await registerOpenApi(app);
  registerHealthRoutes(app, ctx, { tokens: options.tokens, probeDatabase });
  registerIngestRoutes(app, ctx);
  if (options.people) {
    const people = createPeopleContext(options.people);
    registerModelRoutes(app, ctx, people);
    registerRoutingRoutes(app, ctx, people);
    registerRolloutRoutes(app, ctx, people);
    registerAlertRoutes(app, ctx, people);
    registerAuditRoutes(app, ctx, people);
    registerExperimentRoutes(app, ctx, people);
    registerRetrainingRoutes(app, ctx, people);
    registerEvidenceRoutes(app, ctx, people);
  }

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
