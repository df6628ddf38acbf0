/**
 * Deterministic synthetic prediction/feedback records for the ingestion benchmarks: two versions, latencies,
 * rare errors, spread over an hour so rollups span many time buckets.
 */
export const BENCH_MODEL = 'bench';
export const BENCH_VERSIONS = ['1.0.0', '1.1.0'] as const;
const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);

export function predictionRecord(i: number) {
  const version = BENCH_VERSIONS[i % 10 < 3 ? 1 : 0]!;
  // A cheap hash of i gives varied but reproducible values without a PRNG object per record.
  const h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  return {
    requestId: `req-${i}`,
    model: BENCH_MODEL,
    version,
    prediction: 100 + (h % 1000) / 10,
    latencyMs: 20 + (h % 4000) / 100,
    error: h % 1000 === 0,
    at: new Date(T0 + (i % 3_600_000)).toISOString(),
  };
}

export function feedbackRecord(i: number) {
  return { model: BENCH_MODEL, requestId: `req-${i}`, actual: 100 + ((i * 7) % 100) / 2 };
}
