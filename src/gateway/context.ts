import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Recorder } from '../ingest/recorder.js';
import type { Logger } from '../log.js';
import type { Router } from '../routing/router.js';
import type { RequireRole } from './access.js';
import type { GatewayMetrics } from './metrics.js';

/** The gateway's Fastify instance, typed by its zod schemas. */
export type GatewayApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** What route modules share: per-tenant writers and routers, metrics, and the role check. */
export interface GatewayContext {
  recorderFor(tenantId: string): Recorder;
  routerFor(tenantId: string): Promise<Router>;
  recorders(): Iterable<[string, Recorder]>;
  routers(): Iterable<[string, Promise<Router>]>;
  metrics: GatewayMetrics;
  requireRole: RequireRole;
  maxBatch: number;
  log?: Logger | undefined;
}
