/**
 * Whether the environment asks for traces: an OTLP endpoint is set (the standard variables the exporter
 * reads) and the SDK is not disabled. Apart from tracing.ts so a process that traces nothing loads no SDK.
 */
export function tracingRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}
