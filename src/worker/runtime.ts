import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';

let installed = false;

/**
 * The SDK logs every worker state change at INFO; Arena's CLI output would drown in it. Install a quieter
 * runtime logger once per process (Runtime.install fails if a worker already created the default runtime).
 */
export function installWorkerRuntime(
  level: LogLevel = (process.env.TEMPORAL_SDK_LOG_LEVEL as LogLevel) ?? 'WARN',
  /** host:port for the SDK's own Prometheus exporter (ARENA_WORKER_SDK_METRICS_ADDRESS); absent: off. */
  sdkMetricsAddress?: string,
): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({
      logger: new DefaultLogger(level),
      telemetryOptions: {
        // The SDK core's own warnings otherwise go straight to stdout, where they broke `--json` output (seen:
        // "Activity not found on completion" in `arena demo --example flights --json`); forwarded, they go
        // through the logger above, to stderr.
        logging: { filter: { core: level, other: 'ERROR' }, forward: {} },
        ...(sdkMetricsAddress ? { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } } : {}),
      },
    });
  } catch {
    // A runtime already exists (another component installed one first): keep it.
  }
}
