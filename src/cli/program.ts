import { Command } from 'commander';
import { registerAlerts } from './commands/alerts.js';
import { registerAudit } from './commands/audit.js';
import { registerBacktest } from './commands/backtest.js';
import { registerDb } from './commands/db.js';
import { registerDemo } from './commands/demo.js';
import { registerDev } from './commands/dev.js';
import { registerExperiment } from './commands/experiment.js';
import { registerGateway, registerOpenApiCommand } from './commands/gateway.js';
import { registerIngest } from './commands/ingest.js';
import { registerModel } from './commands/model.js';
import { registerMonitoring } from './commands/monitoring.js';
import { registerReport } from './commands/report.js';
import { registerRetrain } from './commands/retrain.js';
import { registerRollout } from './commands/rollout.js';
import { registerSimulate } from './commands/simulate.js';
import { registerRoute, registerRouting } from './commands/routing.js';
import { registerWorker } from './commands/worker.js';
import { emit } from './output.js';

export function buildProgram(): Command {
  const program = new Command('arena')
    .description('Safe rollouts of machine-learning models as durable Temporal workflows')
    // Options of `arena` itself only before a command name, so `--json` after one is that command's own.
    .enablePositionalOptions()
    .option('-V, --version', "print Arena's version and, when the stack is up, Temporal's and PostgreSQL's")
    .option('--json', 'with --version: machine-readable')
    .showHelpAfterError()
    .exitOverride()
    .action(async (opts: { version?: boolean; json?: boolean }) => {
      // Commander's own .version() prints a fixed string; this also asks the running stack for its versions.
      if (!opts.version) {
        program.help({ error: true });
        return;
      }
      const { versionReport, formatVersionReport } = await import('./version.js');
      const report = await versionReport();
      emit(opts.json, report, () => formatVersionReport(report));
    });
  registerDev(program);
  registerDb(program);
  registerDemo(program);
  registerModel(program);
  registerRouting(program);
  registerRoute(program);
  registerGateway(program);
  registerOpenApiCommand(program);
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
