import { createRecorder, type Recorder } from '../../src/ingest/recorder.js';
import { createRouter, type Router } from '../../src/routing/router.js';

export interface VersionProfile {
  /** Typical absolute error of its predictions. */
  noise: number;
  errorRate?: number;
  latencyMs?: number;
}

/**
 * A model server in miniature for tests: routes each request through a real router, "predicts" with the
 * served version's profile (and the shadow versions'), and reports predictions and ground truth through
 * a real recorder, with 1-second rollup buckets so stages of seconds have data.
 */
export async function startTraffic(opts: {
  databaseUrl: string;
  model: string;
  profiles: Record<string, VersionProfile>;
  ratePerSecond?: number;
  seed?: number;
}): Promise<{ stop(): Promise<void>; sent(): number; router: Router; recorder: Recorder }> {
  const router = await createRouter({ databaseUrl: opts.databaseUrl, pollIntervalMs: 200 });
  const recorder = createRecorder({
    databaseUrl: opts.databaseUrl,
    bucketSeconds: 1,
    flushIntervalMs: 50,
    batchSize: 500,
  });
  let s = opts.seed ?? 42;
  const random = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  let i = 0;
  let stopped = false;
  const perTick = Math.max(1, Math.round((opts.ratePerSecond ?? 400) / 20));
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
      const predictions: unknown[] = [];
      const feedback: unknown[] = [];
      for (let k = 0; k < perTick; k++) {
        const requestId = `${opts.model}-${i++}`;
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
      await recorder.recordPredictions(predictions);
      await recorder.recordFeedbackBatch(feedback);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    router,
    recorder,
    sent: () => i,
    async stop() {
      stopped = true;
      await loop;
      await recorder.close();
      await router.close();
    },
  };
}
