import path from 'node:path';
import { z } from 'zod';

/**
 * Every environment variable Arena reads, validated in one place so a typo in a deployment fails
 * at start-up with the variable's name and value instead of deep inside a connection attempt.
 */
/**
 * A whole number written in decimal digits: `0x10`, `1e2`, `2.0` and ` 5` are refused (z.coerce.number would
 * take them all), so a typo cannot turn into a different setting.
 */
const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, 'must be a whole number in decimal digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  ARENA_TASK_QUEUE: z.string().min(1).default('arena'),
  ARENA_HOME: z.string().min(1).optional(),
  ARENA_CACHE_DIR: z.string().min(1).optional(),
  ARENA_TEMPORAL_PORT: integer(1, 65535).default(7233),
  ARENA_TEMPORAL_UI_PORT: integer(1, 65535).default(8233),
  /** JSON array of { token, name, tenant, roles } for the HTTP gateway. */
  ARENA_GATEWAY_TOKENS: z.string().min(2).optional(),
  ARENA_GATEWAY_PORT: integer(0, 65535).default(8080),
  ARENA_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  /** Width of a metric rollup time bucket; analysis windows use whole buckets only. */
  ARENA_ROLLUP_BUCKET_SECONDS: integer(1, 3600).default(60),
  /** YAML/JSON file listing the webhook sinks alerts are sent to (see docs/alerts-and-notifications.md). */
  ARENA_NOTIFY_CONFIG: z.string().min(1).optional(),
  /**
   * Workflow tasks one worker runs at once. A task stays open while a local activity runs in it (a
   * rollout's final decision; before the stage watch, every analysis), see docs/operations.md, "Sizing a
   * worker".
   */
  ARENA_WORKER_WORKFLOW_TASK_SLOTS: integer(2, 10_000).default(200),
  /** Local activities (a rollout's final decision analysis; histories from before the stage watch). */
  ARENA_WORKER_LOCAL_ACTIVITY_SLOTS: integer(1, 10_000).default(200),
  /**
   * Activities one worker runs at once. Each rollout stage holds one for its whole watch (a loop that
   * sleeps between analyses, activities/stage-watch.ts), so this bounds the rollouts a worker watches.
   */
  ARENA_WORKER_ACTIVITY_SLOTS: integer(1, 100_000).default(2_000),
  /**
   * Where `arena worker` serves its Prometheus metrics (`/metrics`: rollouts, analyses, rollbacks, activity
   * failures), e.g. 0.0.0.0:9464; port 0 picks a free one. Unset: not served.
   */
  ARENA_WORKER_METRICS_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. 0.0.0.0:9464')
    .optional(),
  /** Where the Temporal SDK's own Prometheus exporter listens (its workers, pollers, task latencies). Unset: off. */
  ARENA_WORKER_SDK_METRICS_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port, e.g. 0.0.0.0:9465')
    .optional(),
  /** Plausibility window of an ingested record's `at`: how many days back and ahead (docs/ingestion.md). */
  ARENA_INGEST_MAX_AGE_DAYS: integer(1, 36_500).default(3_653),
  ARENA_INGEST_MAX_FUTURE_DAYS: integer(0, 3_650).default(30),
  /**
   * How long a write is retried while the database is unreachable before its caller is told (the gateway
   * answers 503; `arena ingest` stops and says what was stored).
   */
  ARENA_INGEST_RETRY_SECONDS: integer(1, 3_600).default(10),
  /** On SIGTERM the gateway stops within this long, even with a write stuck in the database. */
  ARENA_GATEWAY_SHUTDOWN_SECONDS: integer(1, 600).default(10),
  /**
   * OpenTelemetry traces (docs/operations.md, "Traces"): set either to export spans over OTLP/HTTP, e.g.
   * http://collector:4318 (the traces endpoint gets /v1/traces appended, as the standard says). Unset: off.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. http://collector:4318' })
    .optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. http://collector:4318/v1/traces' })
    .optional(),
  /**
   * Where trained artifacts go (docs/operations.md, "Artifacts"): unset, `<ARENA_HOME>/artifacts` on disk;
   * `s3://BUCKET[/PREFIX]`, an S3 bucket (credentials from the AWS SDK's chain: AWS_ACCESS_KEY_ID…).
   */
  ARENA_ARTIFACT_STORE: z
    .string()
    .regex(
      /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/[^\s]*)?$/,
      'must be s3://BUCKET or s3://BUCKET/PREFIX',
    )
    .optional(),
  /** An S3-compatible server (SeaweedFS, MinIO, Ceph) instead of AWS: its URL. */
  ARENA_S3_ENDPOINT: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  ARENA_S3_REGION: z.string().min(1).default('us-east-1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ArenaEnv = z.infer<typeof envSchema> & {
  /** Directory holding the embedded stack's state (.arena by default, relative to the working directory). */
  arenaHome: string;
  /** User-level cache shared by every clone (the Temporal CLI build lives here). */
  cacheDir: string;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): ArenaEnv {
  // Empty strings are how shells "unset" variables in compose files; treat them as absent.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      return `  ${key}=${JSON.stringify(cleaned[key])}: ${issue.message}`;
    });
    throw new ConfigError(`Invalid environment:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  const home = process.env.HOME ?? '/tmp';
  const cacheDir =
    env.ARENA_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(home, '.cache'), 'arena');
  return { ...env, arenaHome: path.resolve(env.ARENA_HOME ?? '.arena'), cacheDir };
}

/** The plausibility window of ingested records' `at`, from ARENA_INGEST_MAX_AGE_DAYS and …_FUTURE_DAYS. */
export function ingestTimeWindow(env: ArenaEnv): { maxAgeMs: number; maxFutureMs: number } {
  return {
    maxAgeMs: env.ARENA_INGEST_MAX_AGE_DAYS * 86_400_000,
    maxFutureMs: env.ARENA_INGEST_MAX_FUTURE_DAYS * 86_400_000,
  };
}

/** The artifact store's settings: a directory, or an S3 bucket and prefix (ARENA_ARTIFACT_STORE). */
export function artifactStoreSetting(
  env: ArenaEnv,
):
  | { kind: 'local'; dir: string }
  | { kind: 's3'; bucket: string; prefix: string; endpoint?: string; region: string } {
  const url = env.ARENA_ARTIFACT_STORE;
  if (!url) return { kind: 'local', dir: path.join(env.arenaHome, 'artifacts') };
  const [bucket, ...rest] = url.slice('s3://'.length).split('/');
  return {
    kind: 's3',
    bucket: bucket!,
    prefix: rest.join('/'),
    region: env.ARENA_S3_REGION,
    ...(env.ARENA_S3_ENDPOINT ? { endpoint: env.ARENA_S3_ENDPOINT } : {}),
  };
}
