import type { RetryPolicy } from '@temporalio/common';
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../../src/errors.js';

/** No attempt limit: when Postgres is down the rollout waits and continues once it is back. */
export const RETRY_UNTIL_BACK: RetryPolicy = {
  initialInterval: '500 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
};

export const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: RETRY_UNTIL_BACK,
});

/**
 * The analysis runs every interval of every rollout: as a local activity it costs the server one marker
 * event instead of an activity's three events and a second workflow task, which is what lets one dev
 * server keep a thousand rollouts on schedule (bench: rollouts). It reads rollups only and is idempotent
 * per (rollout, seq), so re-running it after a worker crash is safe.
 */
export const localActs = proxyLocalActivities<Pick<Activities, 'analyzeRollout'>>({
  startToCloseTimeout: '30 seconds',
  retry: RETRY_UNTIL_BACK,
});
