import { proxyActivities, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RetentionOutcome } from '../activities/retention.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';

// Deleting a day's requests can take minutes at high traffic; the activity heartbeats per chunk, so a worker
// that dies is noticed within the heartbeat timeout instead of after the whole hour.
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 5,
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

/** What the retention schedule (`arena-retention`) starts: drop the raw days every model has let go. */
export async function retentionWorkflow(args: { dryRun?: boolean } = {}): Promise<RetentionOutcome> {
  const out = await acts.applyRetention({ runId: workflowInfo().workflowId, dryRun: args.dryRun ?? false });
  const mb = (out.freedBytes / 1e6).toFixed(1);
  setCurrentDetails(
    out.dryRun
      ? `**Retention (dry run)**: ${out.days.filter((d) => d.drop).length} of ${out.days.length} days would go`
      : `**Retention**: dropped ${out.dropped} of ${out.days.length} days, ${mb} MB`,
  );
  return out;
}
