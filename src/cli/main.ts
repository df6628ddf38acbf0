import { CommanderError } from 'commander';
import { buildProgram } from './program.js';
import { reportError } from './output.js';
import { tracingRequested } from '../tracing/requested.js';

const argv = process.argv;
// Traces, when OTEL_EXPORTER_OTLP_ENDPOINT asks for them (docs/operations.md, "Traces"): started before any
// command connects to Temporal, flushed when it ends.
const tracing = tracingRequested()
  ? (await import('../tracing/tracing.js')).startTracingFromEnv(`arena-${argv[2] ?? 'cli'}`)
  : undefined;
try {
  await buildProgram().parseAsync(argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Commander already printed its message (unknown option, missing argument, --help).
    process.exitCode = err.exitCode;
  } else {
    process.exitCode = reportError(err, argv.includes('--json'));
  }
} finally {
  await tracing?.shutdown();
}
