import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { createKnex } from '../../db/knex.js';
import { createLogger } from '../../log.js';
import { resolveEndpoints } from '../../stack/endpoints.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run a Temporal worker for Arena workflows and activities (run N replicas in production)')
    .option('--task-queue <name>', 'task queue to poll (default: ARENA_TASK_QUEUE or "arena")')
    .action(async (opts: { taskQueue?: string }) => {
      const env = loadEnv();
      const { connectWorker, temporalTargetFromEnv } = await import('../../temporal/connection.js');
      const { createWorker } = await import('../../worker/create-worker.js');
      const { installWorkerRuntime } = await import('../../worker/runtime.js');
      const { createWorkerMetrics } = await import('../../worker/metrics.js');
      const { serveWorkerMetrics } = await import('../../worker/metrics-server.js');
      // Before anything creates the SDK's runtime: its Prometheus exporter is a runtime option.
      installWorkerRuntime(undefined, env.ARENA_WORKER_SDK_METRICS_ADDRESS);
      const log = createLogger(env.LOG_LEVEL);
      const endpoints = await resolveEndpoints(env);
      const target = temporalTargetFromEnv(env, endpoints.temporal.address);
      const knex = createKnex(endpoints.database.url);
      const connection = await connectWorker(target);
      const taskQueue = opts.taskQueue ?? env.ARENA_TASK_QUEUE;
      const metrics = env.ARENA_WORKER_METRICS_ADDRESS ? createWorkerMetrics(knex) : undefined;
      const { configuredArtifactStore } = await import('../../artifacts/configured-store.js');
      const worker = await createWorker({
        ...(metrics ? { metrics } : {}),
        artifacts: configuredArtifactStore(env),
        connection,
        namespace: target.namespace,
        taskQueue,
        knex,
        log,
        rollupBucketMs: env.ARENA_ROLLUP_BUCKET_SECONDS * 1000,
        slots: {
          workflowTasks: env.ARENA_WORKER_WORKFLOW_TASK_SLOTS,
          localActivities: env.ARENA_WORKER_LOCAL_ACTIVITY_SLOTS,
          activities: env.ARENA_WORKER_ACTIVITY_SLOTS,
        },
      });
      const served =
        metrics && env.ARENA_WORKER_METRICS_ADDRESS
          ? await serveWorkerMetrics(metrics.registry, env.ARENA_WORKER_METRICS_ADDRESS)
          : undefined;
      if (served || env.ARENA_WORKER_SDK_METRICS_ADDRESS)
        log.info(
          {
            metrics: served?.url ?? null,
            sdkMetrics: env.ARENA_WORKER_SDK_METRICS_ADDRESS
              ? `http://${env.ARENA_WORKER_SDK_METRICS_ADDRESS}/metrics`
              : null,
          },
          'serving Prometheus metrics',
        );
      log.info(
        {
          address: target.address,
          namespace: target.namespace,
          taskQueue,
          workflowTaskSlots: env.ARENA_WORKER_WORKFLOW_TASK_SLOTS,
          localActivitySlots: env.ARENA_WORKER_LOCAL_ACTIVITY_SLOTS,
          activitySlots: env.ARENA_WORKER_ACTIVITY_SLOTS,
        },
        'worker started; Ctrl-C to stop',
      );
      // Worker.run() resolves after SIGINT/SIGTERM once in-flight tasks finish (the SDK installs the handlers).
      try {
        await worker.run();
      } finally {
        await served?.close();
        await connection.close();
        await knex.destroy();
      }
    });
}
