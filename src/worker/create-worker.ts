import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import {
  NativeConnection,
  Worker,
  type ActivityInterceptorsFactory,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Knex } from 'knex';
import { join, resolve } from 'node:path';
import { createActivities } from '../../activities/index.js';
import { createLocalArtifactStore } from '../artifacts/local-store.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { loadNotifyConfig, type NotifyConfig } from '../notify/config.js';
import type { Logger } from '../log.js';
import { activeTracing, workflowTracingModule } from '../tracing/tracing.js';
import { countActivityFailures } from './activity-failures.js';
import type { WorkerMetrics } from './metrics.js';
import { installWorkerRuntime } from './runtime.js';
import { workflowsPath } from './workflows-path.js';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  knex: Knex;
  log: Logger;
  clock?: () => Date;
  /** Rollup bucket width the recorders use (default ARENA_ROLLUP_BUCKET_SECONDS or 60 s). */
  rollupBucketMs?: number;
  /** Directory of the content-addressed artifact store (default <ARENA_HOME>/artifacts). */
  artifactDir?: string;
  /** The artifact store itself (`arena worker`: ARENA_ARTIFACT_STORE's); wins over artifactDir. */
  artifacts?: ArtifactStore;
  /** Prefix of rollout workflow ids that workflows start (see ActivityDeps). */
  rolloutWorkflowPrefix?: string;
  /** Webhook sinks for alerts (default: the file named by ARENA_NOTIFY_CONFIG, if any). */
  notify?: NotifyConfig;
  /**
   * Concurrency slots. Before the stage watch, a rollout's workflow task stayed open while its per-interval
   * local analysis ran, and the SDK's 40 workflow-task slots capped a worker at about 40 ÷ task latency
   * (bench: rollouts, lag p99 12–13 s with 40 slots, 1.4–2.8 s with 200; docs/operations.md). Defaults:
   * ARENA_WORKER_WORKFLOW_TASK_SLOTS and ARENA_WORKER_LOCAL_ACTIVITY_SLOTS. Activities: every rollout in a
   * stage holds one slot for its stage watch, which mostly sleeps, so the SDK's 100 would cap a worker at
   * 100 watched rollouts (ARENA_WORKER_ACTIVITY_SLOTS, default 2,000).
   */
  slots?: { workflowTasks?: number; localActivities?: number; activities?: number };
  /** Prometheus metrics to keep (analyses, rollbacks, activity failures); absent: none are counted. */
  metrics?: WorkerMetrics;
  /** Overrides for tests (e.g. a prebuilt bundle shared across test files). */
  workerOptions?: Partial<WorkerOptions>;
}

const DEFAULT_SLOTS = { workflowTasks: 200, localActivities: 200, activities: 2_000 };

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  installWorkerRuntime();
  // The SDK refuses both a path and a prebuilt bundle; tests pass a bundle built once per run.
  const workflowSource = opts.workerOptions?.workflowBundle ? {} : { workflowsPath: workflowsPath() };
  const activityInterceptors: ActivityInterceptorsFactory[] = opts.metrics
    ? [countActivityFailures(opts.metrics)]
    : [];
  // Tracing (src/tracing/tracing.ts): the SDK's interceptors continue the trace a client started into the
  // workflow (bundled in, with a sink that hands its spans out of the sandbox) and each activity.
  const tracing = activeTracing();
  if (tracing)
    activityInterceptors.push((ctx) => ({
      inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
      outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
    }));
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...workflowSource,
    activities: createActivities({
      knex: opts.knex,
      log: opts.log,
      clock: opts.clock ?? (() => new Date()),
      rollupBucketMs: opts.rollupBucketMs ?? Number(process.env.ARENA_ROLLUP_BUCKET_SECONDS ?? 60) * 1000,
      notify: opts.notify ?? loadNotifyConfig(process.env.ARENA_NOTIFY_CONFIG || undefined),
      ...(opts.rolloutWorkflowPrefix ? { rolloutWorkflowPrefix: opts.rolloutWorkflowPrefix } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      reportDir: join(resolve(process.env.ARENA_HOME ?? '.arena'), 'reports'),
      artifacts:
        opts.artifacts ??
        createLocalArtifactStore(
          opts.artifactDir ?? join(resolve(process.env.ARENA_HOME ?? '.arena'), 'artifacts'),
        ),
    }),
    maxConcurrentWorkflowTaskExecutions: opts.slots?.workflowTasks ?? DEFAULT_SLOTS.workflowTasks,
    maxConcurrentLocalActivityExecutions: opts.slots?.localActivities ?? DEFAULT_SLOTS.localActivities,
    maxConcurrentActivityTaskExecutions: opts.slots?.activities ?? DEFAULT_SLOTS.activities,
    interceptors: {
      activity: activityInterceptors,
      ...(tracing ? { workflowModules: [workflowTracingModule()] } : {}),
    },
    ...(tracing
      ? { sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) } }
      : {}),
    ...opts.workerOptions,
  });
}
