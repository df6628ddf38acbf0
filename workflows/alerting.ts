import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AlertInput } from '../activities/rollout-records.js';

const acts = proxyActivities<Pick<Activities, 'raiseAlert'>>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

const notifyActs = proxyActivities<Pick<Activities, 'notifyAlert'>>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 3 },
});

/**
 * Stores the alert (once per dedupe key), then sends it to the configured webhooks. Delivery problems are
 * the notifier's to record (notification_deliveries), never a reason for the calling workflow to stop.
 * Rollout histories recorded before notifications existed replay without the second step (patch
 * `notify-alerts`).
 */
export async function raiseAndNotify(alert: AlertInput): Promise<void> {
  await acts.raiseAlert(alert);
  if (!patched('notify-alerts')) return;
  try {
    await notifyActs.notifyAlert({ tenantId: alert.tenantId, dedupeKey: alert.dedupeKey });
  } catch {
    // Recorded by the activity; the workflow goes on.
  }
}
