// The worker bundles this file: every workflow the task queue serves is exported here.
export { stackCheckWorkflow } from './stack-check.js';
export { rolloutWorkflow } from './rollout/workflow.js';
export { retrainWorkflow } from './retrain.js';
export { driftCheckWorkflow } from './drift-check.js';
export { scheduledRetrainWorkflow } from './scheduled-retrain.js';
export { experimentWorkflow } from './experiment.js';
export { backtestWorkflow } from './backtest.js';
export { weeklyReportWorkflow } from './weekly-report.js';
export { championMonitorWorkflow } from './champion-monitor.js';
export { retentionWorkflow } from './retention.js';
