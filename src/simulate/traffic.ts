import { createRecorder, type Recorder } from '../ingest/recorder.js';
import { createRouter, type Router } from '../routing/router.js';

export interface VersionProfile {
  /**
   * Standard deviation of its prediction error (Gaussian), so its MAE is ≈ 0.8 × noise. Used by the
   * synthetic workload only; a replayed workload (`workload`) brings the version's real answers.
   */
  noise: number;
  /** Share of requests that fail (no prediction, error flag set). */
  errorRate?: number;
  /** Typical latency; each request draws uniformly within ±20 %. */
  latencyMs?: number;
}

/** One request of a workload: its ground truth and what each version answers. */
/** A binary classifier's answer: its label and its probability of `true` (recorded as `probability`). */
export interface ClassifierAnswer {
  label: boolean;
  probability: number;
}

export interface WorkloadRequest {
  /** Part of the request id; the generator adds its prefix and a counter, so keys may repeat. */
  key: string;
  /** The outcome sent as feedback: a number (regression) or a label. */
  actual: number | boolean | string;
  /** The version's answer before serving faults (errors, latency) are injected; null = cannot answer. */
  predict(version: string): number | ClassifierAnswer | null;
  /** The input values the model saw, reported with the prediction (drift monitoring reads them). */
  features?: Record<string, number | string> | null;
  /**
   * The request's segment (an origin airport): recorded with the prediction for the per-segment check, and
   * given to the router under TrafficOptions.segmentKey, so a partial adoption's pins apply to it.
   */
  segment?: string;
}

/** Where requests come from: synthetic numbers by default, or a replayed data set and real models (the demo). */
export interface Workload {
  request(i: number): WorkloadRequest;
}

export interface TrafficOptions {
  databaseUrl: string;
  model: string;
  profiles: Record<string, VersionProfile>;
  ratePerSecond?: number;
  seed?: number;
  /** Rollup bucket width; 1 s lets stages of seconds be analyzed (production uses 60 s). */
  bucketSeconds?: number;
  /** Ground truth this long after the prediction (0 = at once). */
  feedbackDelayMs?: number;
  /**
   * Share of each version's served predictions the "server" fails to report (a logging bug): the traffic
   * split then looks wrong to the analysis, which is what a sample-ratio-mismatch check must catch.
   */
  unreportedShare?: Record<string, number>;
  /** Wait until each batch is stored before sending the next (fault tests and the rollback-reaction bench). */
  durable?: boolean;
  /** Prefix of request ids; unique per run so two generators on one model never collide. */
  requestPrefix?: string;
  /** The requests to send; default: synthetic ground truth around 110 with each profile's Gaussian noise. */
  workload?: Workload;
  /** The routing segment key a request's `segment` is routed under (the policy's `segments.key`). */
  segmentKey?: string;
  /** Stop sending after this many requests (a replay sent once, not again from its start). */
  limit?: number;
}

export interface Traffic {
  stop(): Promise<void>;
  sent(): number;
  router: Router;
  recorder: Recorder;
  /** When the first batch carrying an error of `version` was handed to the recorder (ms since the epoch). */
  firstErrorSubmittedAt(version: string): number | undefined;
  /** When that batch was stored (meaningful with `durable`). */
  firstErrorWrittenAt(version: string): number | undefined;
}

/**
 * A model server in miniature (`arena simulate`, the demo and the tests): routes each request through a
 * real router, "predicts" with the served version's profile (and the shadow versions'), and reports
 * predictions and, a little later, ground truth through a real recorder, as a real client would.
 */
export async function startTraffic(opts: TrafficOptions): Promise<Traffic> {
  const router = await createRouter({ databaseUrl: opts.databaseUrl, pollIntervalMs: 200 });
  const recorder = createRecorder({
    databaseUrl: opts.databaseUrl,
    bucketSeconds: opts.bucketSeconds ?? 1,
    flushIntervalMs: 50,
    // Small batches keep a slow test's data flowing; at thousands a second a batch of 500 per round trip
    // cannot keep up (a 12,000/s flights replay filled the buffer at 5,000/s; 2,400 took it to 9,700/s), so batches grow with the rate.
    batchSize: Math.min(5000, Math.max(500, Math.round((opts.ratePerSecond ?? 400) / 4))),
  });
  const pendingFeedback: Array<{ due: number; records: unknown[] }> = [];
  let s = opts.seed ?? 42;
  const random = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const gaussian = (): number =>
    Math.sqrt(-2 * Math.log(random() + 1e-12)) * Math.cos(2 * Math.PI * random());
  let i = 0;
  let stopped = false;
  const prefix = opts.requestPrefix ?? opts.model;
  const submitted = new Map<string, number>();
  const written = new Map<string, number>();
  const durable = { durable: opts.durable ?? false };
  const rate = opts.ratePerSecond ?? 400;
  // Requests are sent against the clock (due = rate × elapsed), not a fixed number per sleep: the time a
  // tick's work takes would otherwise come off the rate (a 12,000/s replay ran at 4,800/s). A tick sends at
  // most a quarter second's worth, so a stall (a full recorder buffer) is not followed by a burst.
  const maxPerTick = Math.max(1, Math.round(rate / 4));
  let startedAt = Date.now();
  const synthetic: Workload = {
    request: (n) => {
      const actual = 100 + 20 * random();
      return {
        key: String(n),
        actual,
        predict: (version) => actual + gaussian() * (opts.profiles[version]?.noise ?? 10),
      };
    },
  };
  const workload = opts.workload ?? synthetic;
  // Serving faults are injected on top of the version's answer, as a broken server would fail.
  const serve = (version: string, request: WorkloadRequest) => {
    const p = opts.profiles[version] ?? { noise: 10 };
    const answer = request.predict(version);
    const error = answer === null || random() < (p.errorRate ?? 0);
    const served =
      error || answer === null
        ? { prediction: null }
        : typeof answer === 'number'
          ? { prediction: answer }
          : { prediction: answer.label, probability: answer.probability };
    return {
      ...served,
      ...(request.features ? { features: request.features } : {}),
      ...(request.segment !== undefined ? { segment: request.segment } : {}),
      error,
      latencyMs: (p.latencyMs ?? 30) * (0.8 + 0.4 * random()),
    };
  };
  const loop = (async () => {
    while (!stopped) {
      const predictions: Array<Record<string, unknown> & { version: string; error: boolean }> = [];
      const feedback: unknown[] = [];
      const due = Math.floor(((Date.now() - startedAt) * rate) / 1000);
      if (due - i > maxPerTick) startedAt = Date.now() - ((i + maxPerTick) * 1000) / rate;
      const count = Math.max(0, Math.min(maxPerTick, due - i, (opts.limit ?? Infinity) - i));
      for (let k = 0; k < count; k++) {
        const request = workload.request(i);
        const requestId = opts.workload ? `${prefix}-${i++}-${request.key}` : `${prefix}-${i++}`;
        const actual = request.actual;
        let decision;
        try {
          decision = router.route(
            opts.model,
            requestId,
            request.segment !== undefined
              ? { segments: { [opts.segmentKey ?? 'segment']: request.segment } }
              : undefined,
          );
        } catch {
          continue;
        }
        if (random() >= (opts.unreportedShare?.[decision.serve] ?? 0)) {
          predictions.push({
            requestId,
            model: opts.model,
            version: decision.serve,
            role: 'served',
            ...serve(decision.serve, request),
          });
        }
        for (const v of decision.shadow)
          predictions.push({
            requestId,
            model: opts.model,
            version: v,
            role: 'shadow',
            ...serve(v, request),
          });
        feedback.push({ model: opts.model, requestId, actual });
      }
      const erring = new Set(predictions.filter((p) => p.error).map((p) => p.version));
      for (const v of erring) if (!submitted.has(v)) submitted.set(v, Date.now());
      await recorder.recordPredictions(predictions, durable);
      for (const v of erring) if (!written.has(v)) written.set(v, Date.now());
      pendingFeedback.push({ due: Date.now() + (opts.feedbackDelayMs ?? 0), records: feedback });
      while (pendingFeedback.length && pendingFeedback[0]!.due <= Date.now())
        await recorder.recordFeedbackBatch(pendingFeedback.shift()!.records, durable);
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const batch of pendingFeedback.splice(0)) await recorder.recordFeedbackBatch(batch.records);
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
      const bounded = (p: Promise<unknown>): Promise<unknown> =>
        Promise.race([p, new Promise((r) => setTimeout(r, 10_000))]);
      await bounded(loop);
      await bounded(recorder.close());
      await router.close();
    },
  };
}
