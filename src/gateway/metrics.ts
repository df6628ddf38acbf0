import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { feedbackInputSchema, predictionInputSchema } from '../ingest/records.js';

const FIELDS = {
  predictions: new Set(Object.keys(predictionInputSchema.shape)),
  feedback: new Set(Object.keys(feedbackInputSchema.shape)),
};

/**
 * The `field` label of a rejection, from a closed set: the record's top-level field when it is one the
 * schema knows, else `(record)`. A rejection's own field can hold caller text (a metric name, a key inside a
 * prediction), and a label per distinct value would let any ingest token grow /metrics without bound.
 */
export function rejectionLabel(kind: 'predictions' | 'feedback', field: string): string {
  const top = field.split('.')[0]!;
  return FIELDS[kind].has(top) ? top : '(record)';
}

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
    refused: new Gauge({
      name: 'arena_ingest_refused_records',
      help: 'Records the database refused after validation passed, since the gateway started',
      labelNames: ['tenant'] as const,
      registers: [registry],
    }),
    failed: new Gauge({
      name: 'arena_ingest_failed_records',
      help: 'Records not stored because the database stayed unreachable or refused the write, since start',
      labelNames: ['tenant'] as const,
      registers: [registry],
    }),
    writerDegraded: new Gauge({
      name: 'arena_ingest_writer_degraded',
      help: '1 while the tenant’s writer is retrying or failing, else 0',
      labelNames: ['tenant'] as const,
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
