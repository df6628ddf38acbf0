import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArenaClient } from '../../src/client/arena-client.js';
import { createLogger } from '../../src/log.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { temporalClient } from '../../src/temporal/connection.js';
import { startTracing, type Tracing } from '../../src/tracing/tracing.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { operatorGateway } from '../support/operator-gateway.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';

/**
 * OpenTelemetry traces (src/tracing/tracing.ts) with an in-memory exporter: a rollout started over HTTP is
 * one connected trace, from the gateway's request span through the Temporal client's start to the workflow
 * and each activity it ran, on a real Temporal server and a worker that bundles the SDK's interceptors.
 */
describe('traces: one rollout, one connected trace (real gateway, Temporal, worker)', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;

  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'arena-test', spanProcessor: new SimpleSpanProcessor(exporter) });
    db = await createTestDatabase('tracing');
    temporal = await connectTestTemporal();
    // Not the shared prebuilt bundle: the worker bundles the workflow interceptors itself when tracing.
    worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      knex: db.knex,
      log: createLogger('warn'),
      rollupBucketMs: 1000,
      rolloutWorkflowPrefix: `rollout-${temporal.taskQueue.slice(-8)}`,
    });
    running = worker.run();
  }, 600_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
    await tracing?.shutdown();
  });

  it('joins the gateway request, the workflow start, the workflow and its activities in one trace', async () => {
    await registerVersion(db.knex, { model: 'traced', version: '1.0.0', actor: 'setup' });
    await registerVersion(db.knex, { model: 'traced', version: '1.1.0', actor: 'setup' });
    await setChampion(db.knex, { model: 'traced', version: '1.0.0', actor: 'setup' });
    const client = temporalClient(temporal.connection, temporal.namespace);
    const gateway = await operatorGateway(db, { client, taskQueue: temporal.taskQueue });
    try {
      // No traffic: the canary waits for data, and the final verdict, still waiting, is rolled back.
      const started = await gateway.call<{ rolloutId: string }>('POST', '/v1/rollouts', {
        model: 'traced',
        challenger: '1.1.0',
        policy: {
          approval: { required: false },
          stages: [{ mode: 'canary', weight: 10, duration: '2s' }],
          analysis: { interval: '1s', maxExtension: '1s' },
          onInconclusive: 'rollback',
        },
      });
      expect(started.status).toBe(201);
      const arena = new ArenaClient({ temporal: client, knex: db.knex, taskQueue: temporal.taskQueue });
      expect((await arena.result(started.body.rolloutId)).state).toBe('rolled_back');
    } finally {
      await gateway.close();
    }

    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === 'POST /v1/rollouts');
    expect(request, spans.map((s) => s.name).join(', ')).toBeDefined();
    const traceId = request!.spanContext().traceId;
    const trace = spans.filter((s) => s.spanContext().traceId === traceId);
    const names = trace.map((s) => s.name);
    // Client → workflow → activities, all under the request.
    expect(names).toContainEqual(expect.stringMatching(/^StartWorkflow:rolloutWorkflow$/));
    expect(names).toContainEqual(expect.stringMatching(/^RunWorkflow:rolloutWorkflow$/));
    for (const activity of ['setRouting', 'setVersionStatus', 'recordRolloutEvent'])
      expect(names, `${activity} in ${names.join(', ')}`).toContainEqual(`RunActivity:${activity}`);
    // Connected: one root (the request), and every other span's parent is in the trace.
    const ids = new Set(trace.map((s) => s.spanContext().spanId));
    const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanId;
    const roots = trace.filter((s) => !parentOf(s) || !ids.has(parentOf(s)!));
    expect(roots.map((s) => s.name)).toEqual(['POST /v1/rollouts']);
    // The request span is the gateway's (a server span with the route), not a client-side one.
    expect(request!.attributes['http.route']).toBe('/v1/rollouts');
  }, 180_000);
});
