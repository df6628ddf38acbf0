import { Command } from 'commander';
import { registerAlerts } from './commands/alerts.js';
import { registerAudit } from './commands/audit.js';
import { registerBacktest } from './commands/backtest.js';
import { registerDb } from './commands/db.js';
import { registerDemo } from './commands/demo.js';
import { registerDev } from './commands/dev.js';
import { registerExperiment } from './commands/experiment.js';
import { registerGateway } from './commands/gateway.js';
import { registerIngest } from './commands/ingest.js';
import { registerModel } from './commands/model.js';
import { registerMonitoring } from './commands/monitoring.js';
import { registerReport } from './commands/report.js';
import { registerRetrain } from './commands/retrain.js';
import { registerRollout } from './commands/rollout.js';
import { registerSimulate } from './commands/simulate.js';
import { registerRoute, registerRouting } from './commands/routing.js';
import { registerWorker } from './commands/worker.js';

export function buildProgram(): Command {
  const program = new Command('arena')
    .description('Safe rollouts of machine-learning models as durable Temporal workflows')
    .showHelpAfterError()
    .exitOverride();
  registerDev(program);
  registerDb(program);
  registerDemo(program);
  registerModel(program);
  registerRouting(program);
  registerRoute(program);
  registerGateway(program);
  registerIngest(program);
  registerRollout(program);
  registerReport(program);
  registerAudit(program);
  registerAlerts(program);
  registerExperiment(program);
  registerBacktest(program);
  registerRetrain(program);
  registerMonitoring(program);
  registerSimulate(program);
  registerWorker(program);
  return program;
}
