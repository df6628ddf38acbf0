import { proxyActivities, setCurrentDetails } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES },
});

/** What the weekly report schedule starts: the model's performance report as an HTML file. */
export async function weeklyReportWorkflow(args: {
  tenantId: string;
  model: string;
}): Promise<{ path: string; bytes: number }> {
  const out = await acts.writeModelReport(args);
  setCurrentDetails(`**Weekly report of ${args.model}**: ${out.path}`);
  return out;
}
