import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The gateway's Prometheus metrics, on a registry of its own so tests can build several gateways. */
export function createGatewayMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'arena_gateway_' });
  return {
    registry,
    records: new Counter({
      name: 'arena_ingest_records_total',
      help: 'Records accepted for ingestion',
      labelNames: ['kind', 'tenant'] as const,
      registers: [registry],
    }),
    rejects: new Counter({
      name: 'arena_ingest_rejected_total',
      help: 'Records rejected by validation',
      labelNames: ['kind', 'tenant', 'field'] as const,
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'arena_ingest_batch_size',
      help: 'Records per ingestion request',
      labelNames: ['kind'] as const,
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers: [registry],
    }),
    buffered: new Gauge({
      name: 'arena_ingest_buffered',
      help: 'Records buffered, not yet written',
      labelNames: ['tenant'] as const,
      registers: [registry],
    }),
    routerGeneration: new Gauge({
      name: 'arena_router_generation',
      help: 'Routing generation the gateway serves, per model',
      labelNames: ['tenant', 'model'] as const,
      registers: [registry],
    }),
    routeDecisions: new Counter({
      name: 'arena_route_decisions_total',
      help: 'Routing decisions served',
      labelNames: ['tenant', 'model', 'via'] as const,
      registers: [registry],
    }),
  };
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
