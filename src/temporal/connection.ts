import { readFile } from 'node:fs/promises';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import type { ArenaEnv } from '../config/env.js';
import { UserFacingError } from '../errors.js';
import { activeTracing } from '../tracing/tracing.js';
import { installWorkerRuntime } from '../worker/runtime.js';

export interface TemporalTarget {
  address: string;
  namespace: string;
  apiKey?: string | undefined;
  tls?: { certPath?: string | undefined; keyPath?: string | undefined } | undefined;
}

export function temporalTargetFromEnv(env: ArenaEnv, address: string): TemporalTarget {
  const wantsTls =
    env.TEMPORAL_TLS === 'true' || Boolean(env.TEMPORAL_TLS_CERT) || Boolean(env.TEMPORAL_API_KEY);
  return {
    address,
    namespace: env.TEMPORAL_NAMESPACE,
    apiKey: env.TEMPORAL_API_KEY,
    tls: wantsTls ? { certPath: env.TEMPORAL_TLS_CERT, keyPath: env.TEMPORAL_TLS_KEY } : undefined,
  };
}

async function tlsOptions(target: TemporalTarget): Promise<ConnectionOptions['tls']> {
  if (!target.tls) return undefined;
  const { certPath, keyPath } = target.tls;
  if (certPath && keyPath) {
    return { clientCertPair: { crt: await readFile(certPath), key: await readFile(keyPath) } };
  }
  return true;
}

/** A client connection (for starting workflows, queries, updates) with a message that says what to check. */
export async function connectClient(target: TemporalTarget, connectTimeoutMs = 5_000): Promise<Connection> {
  try {
    return await Connection.connect({
      address: target.address,
      tls: await tlsOptions(target),
      ...(target.apiKey ? { apiKey: target.apiKey } : {}),
      connectTimeout: connectTimeoutMs,
    });
  } catch (err) {
    throw new UserFacingError(
      `Cannot reach the Temporal server at ${target.address}: ${(err as Error).message}`,
      'Start the local stack with `npm run arena -- dev up`, or set TEMPORAL_ADDRESS (and TLS/API key) to a running server.',
      { cause: err },
    );
  }
}

/**
 * A Temporal client on a connection; with tracing on (src/tracing/tracing.ts) it puts the caller's trace
 * context into every workflow start, signal, update and query, so the workflow's spans join the trace.
 */
export function temporalClient(connection: Connection, namespace: string): Client {
  return new Client({
    connection,
    namespace,
    ...(activeTracing()
      ? { interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } }
      : {}),
  });
}

/** The worker's native connection, configured the same way as the client's. */
export async function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  // The first native connection creates the SDK runtime; its logger must be installed before that.
  installWorkerRuntime();
  const options: NativeConnectionOptions = {
    address: target.address,
    tls: (await tlsOptions(target)) as NativeConnectionOptions['tls'],
    ...(target.apiKey ? { apiKey: target.apiKey } : {}),
  };
  try {
    return await NativeConnection.connect(options);
  } catch (err) {
    throw new UserFacingError(
      `The worker cannot reach the Temporal server at ${target.address}: ${(err as Error).message}`,
      'Start the local stack with `npm run arena -- dev up`, or set TEMPORAL_ADDRESS to a running server.',
      { cause: err },
    );
  }
}
