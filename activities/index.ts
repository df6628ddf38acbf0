import type { ActivityDeps } from './deps.js';
import { analysisActivities } from './analysis.js';
import { backtestActivities } from './backtest.js';
import { championMonitorActivities } from './champion-monitor.js';
import { experimentActivities } from './experiments.js';
import { monitoringActivities } from './monitoring.js';
import { notificationActivities } from './notifications.js';
import { reportActivities } from './reports.js';
import { retentionActivities } from './retention.js';
import { retrainActivities } from './retrain.js';
import { rolloutRecordActivities } from './rollout-records.js';
import { routingActivities } from './routing.js';
import { stackCheckActivities } from './stack-check.js';

export type { ActivityDeps } from './deps.js';
export type { AnalyzeInput } from '../src/analysis/analyze-input.js';

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...stackCheckActivities(deps),
    ...routingActivities(deps),
    ...rolloutRecordActivities(deps),
    ...analysisActivities(deps),
    ...retrainActivities(deps),
    ...monitoringActivities(deps),
    ...championMonitorActivities(deps),
    ...notificationActivities(deps),
    ...experimentActivities(deps),
    ...backtestActivities(deps),
    ...reportActivities(deps),
    ...retentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
