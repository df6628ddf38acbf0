import pg from 'pg';
import { createRecorder, type Recorder } from '../../src/ingest/recorder.js';
import { createRouter, type Router } from '../../src/routing/router.js';
import type { VersionProfile } from '../../src/simulate/traffic.js';

/**
 * Synthetic model-server traffic like src/simulate/traffic.ts (a real router decides, a real recorder
 * writes predictions and ground truth with 1-second rollups), with two differences the fault tests and the
 * rollout benchmark need:
 *
 * - The recorder writes through a pg.Pool of ours whose clients always have an 'error' listener. With the
 *   recorder's own pool, a connection that dies while the writer holds it checked out (Postgres stopped with
 *   `pg_ctl stop -m fast` during a COPY) emits an unhandled 'error' and kills the process (see the report on
 *   src/ingest/writer.ts). Records written while Postgres is down are retried by the recorder or lost.
 * - `profiles` is read on every tick, so a caller may change a version's behaviour mid-run (start sending
 *   errors from the challenger), and `firstErrorWrittenAt(version)` says when the first batch carrying an
 *   error of that version was stored (writes are durable: the recorder resolves once they are in Postgres).
 *
 * Not importing vitest, so benchmarks can use it too.
 */
export interface ModelTraffic {
  router: Router;
  recorder: Recorder;
  /** Requests generated so far. */
  sent(): number;
  /** Wall-clock time (ms since the epoch) the first batch with an error of `version` was accepted for writing. */
  firstErrorSubmittedAt(version: string): number | undefined;
  /** Wall-clock time the first batch with an error of `version` was stored (durable write resolved). */
  firstErrorWrittenAt(version: string): number | undefined;
  stop(): Promise<void>;
}

export interface ModelTrafficOptions {
  databaseUrl: string;
  model: string;
  /** Read on every tick; mutate it to change a version's behaviour. */
  profiles: Record<string, VersionProfile>;
  ratePerSecond?: number;
  seed?: number;
  tickMs?: number;
  /** Prefix of request ids, unique per run so two generators on one model never collide. */
  requestPrefix?: string;
}

export async function startModelTraffic(opts: ModelTrafficOptions): Promise<ModelTraffic> {
  const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 3 });
  pool.on('error', () => undefined);
  // Checked-out clients lose pg-pool's idle listener; keep one of our own on every client.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const router = await createRouter({ databaseUrl: opts.databaseUrl, pollIntervalMs: 200 });
  const recorder = createRecorder({ pool, bucketSeconds: 1, flushIntervalMs: 20, batchSize: 500 });

  let s = opts.seed ?? 42;
  const random = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  const tickMs = opts.tickMs ?? 50;
  const perTick = Math.max(1, Math.round(((opts.ratePerSecond ?? 300) * tickMs) / 1000));
  const prefix = opts.requestPrefix ?? `${opts.model}-${Date.now().toString(36)}`;
  const submitted = new Map<string, number>();
  const written = new Map<string, number>();
  let i = 0;
  let stopped = false;

  const predict = (version: string, actual: number) => {
    const p = opts.profiles[version] ?? { noise: 10 };
    const error = random() < (p.errorRate ?? 0);
    return {
      prediction: error ? null : actual + gaussian() * p.noise,
      error,
      latencyMs: (p.latencyMs ?? 30) * (0.8 + 0.4 * random()),
    };
  };

  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      const predictions: Array<Record<string, unknown>> = [];
      const feedback: unknown[] = [];
      for (let k = 0; k < perTick; k++) {
        const requestId = `${prefix}-${i++}`;
        const actual = 100 + 20 * random();
        let decision;
        try {
          decision = router.route(opts.model, requestId);
        } catch {
          continue;
        }
        predictions.push({
          requestId,
          model: opts.model,
          version: decision.serve,
          role: 'served',
          ...predict(decision.serve, actual),
        });
        for (const v of decision.shadow)
          predictions.push({
            requestId,
            model: opts.model,
            version: v,
            role: 'shadow',
            ...predict(v, actual),
          });
        feedback.push({ model: opts.model, requestId, actual });
      }
      const erring = new Set(predictions.filter((p) => p.error).map((p) => p.version as string));
      const at = Date.now();
      for (const v of erring) if (!submitted.has(v)) submitted.set(v, at);
      // Durable: a batch counts as ingested only once Postgres has it (and its rollups). Ground truth comes
      // at once, after its predictions, so the error metrics of this batch are complete when it resolves.
      await recorder.recordPredictions(predictions, { durable: true });
      const done = Date.now();
      for (const v of erring) if (!written.has(v)) written.set(v, done);
      await recorder.recordFeedbackBatch(feedback, { durable: true });
      await new Promise((r) => setTimeout(r, Math.max(0, tickMs - (Date.now() - started))));
    }
  })();

  return {
    router,
    recorder,
    sent: () => i,
    firstErrorSubmittedAt: (v) => submitted.get(v),
    firstErrorWrittenAt: (v) => written.get(v),
    async stop() {
      stopped = true;
      // A durable write waits for Postgres; when it is gone for good, do not wait for ever.
      await Promise.race([loop, new Promise((r) => setTimeout(r, 10_000))]);
      await Promise.race([recorder.close(), new Promise((r) => setTimeout(r, 10_000))]);
      await router.close();
      await pool.end().catch(() => undefined);
    },
  };
}
