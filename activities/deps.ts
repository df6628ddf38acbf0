import type { Knex } from 'knex';
import type { ArtifactStore } from '../src/artifacts/store.js';
import type { Logger } from '../src/log.js';
import type { NotifyConfig } from '../src/notify/config.js';
import type { WorkerMetrics } from '../src/worker/metrics.js';

/** What every activity may use; injected so activities can be tested against a real database and a fake clock. */
export interface ActivityDeps {
  knex: Knex;
  clock: () => Date;
  log: Logger;
  /** Width of a rollup time bucket; must match the recorders' `bucketSeconds`. */
  rollupBucketMs: number;
  /** Where trained artifacts go and are verified from (retraining); absent on workers that do not retrain. */
  artifacts?: ArtifactStore;
  /** Where alerts are sent (webhook sinks); absent → alerts are only stored. */
  notify?: NotifyConfig;
  /**
   * Prefix of the rollout workflow ids that workflows start (default "rollout"), as ArenaClient's
   * workflowIdPrefix: deployments (or test runs) sharing a namespace keep their rollouts apart.
   */
  rolloutWorkflowPrefix?: string;
  /** Prometheus metrics of the worker (arena worker with ARENA_WORKER_METRICS_ADDRESS); absent: not counted. */
  metrics?: WorkerMetrics;
  /** Where scheduled reports are written (default .arena/reports). */
  reportDir?: string;
}
