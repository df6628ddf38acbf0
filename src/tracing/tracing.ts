import { createRequire } from 'node:module';
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { tracingRequested } from './requested.js';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * OpenTelemetry traces across Arena's processes (docs/operations.md, "Traces"): off unless
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, then exported over
 * OTLP/HTTP to it. The Temporal SDK's OpenTelemetry interceptors carry the context from the client
 * (CLI, gateway) through the workflow to its activities; the gateway adds a span per request. One
 * process has one tracing: it is installed as OpenTelemetry's global provider, and the Temporal client
 * and worker factories ask `activeTracing()` whether to add the interceptors.
 */
export interface Tracing {
  readonly tracer: Tracer;
  /** Where workflow spans, which the SDK hands out of its sandbox, are sent (worker sinks). */
  readonly spanProcessor: SpanProcessor;
  readonly resource: Resource;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

/** The tracing this process started, if any. */
export function activeTracing(): Tracing | undefined {
  return active;
}

/**
 * Starts tracing for this process when the environment asks for it (see tracingRequested); the exporter
 * reads the standard OTEL_EXPORTER_OTLP_* variables itself. A second call returns the first tracing.
 */
export function startTracingFromEnv(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Tracing | undefined {
  if (active) return active;
  if (!tracingRequested(env)) return undefined;
  return startTracing({ serviceName, spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter()) });
}

/** Starts tracing with a span processor of the caller's (tests: an in-memory exporter behind it). */
export function startTracing(opts: { serviceName: string; spanProcessor: SpanProcessor }): Tracing {
  if (active) return active;
  const resource = new Resource({ 'service.name': process.env.OTEL_SERVICE_NAME || opts.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [opts.spanProcessor] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  let stopped: Promise<void> | undefined;
  const tracing: Tracing = {
    tracer: trace.getTracer('arena'),
    spanProcessor: opts.spanProcessor,
    resource,
    shutdown() {
      stopped ??= (async () => {
        await provider.shutdown();
        trace.disable();
        context.disable();
        propagation.disable();
        active = undefined;
      })();
      return stopped;
    },
  };
  active = tracing;
  return tracing;
}

/** The workflow interceptor module the worker bundles when tracing (the SDK's own). */
export function workflowTracingModule(): string {
  return createRequire(import.meta.url).resolve(
    '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
  );
}
