import { createRecorder } from '../src/ingest/recorder.js';
import { registerVersion } from '../src/registry/registry.js';
import { createBenchDatabase } from './bench-database.js';
import { benchResult, type BenchResult } from './result.js';
import { BENCH_MODEL, BENCH_VERSIONS, feedbackRecord, predictionRecord } from './synthetic-traffic.js';

const N = Number(process.env.ARENA_BENCH_STORAGE_N ?? 1_000_000);
const BATCH = 5_000;

/**
 * Disk per million predictions (docs/operations.md, "Day 2"): N synthetic predictions and their feedback
 * through the recorder, then each table's whole size (heap, indexes and TOAST, after VACUUM) scaled to a
 * million. The baseline is the records' own JSON, the bytes a client sends: the ratio is Postgres' overhead.
 * Rollups depend on the time span and the number of metrics, not on the count: reported as a total, with
 * the span, in the notes.
 */
export async function runStorageBench(): Promise<BenchResult[]> {
  const db = await createBenchDatabase('storage');
  try {
    for (const v of BENCH_VERSIONS)
      await registerVersion(db.knex, { model: BENCH_MODEL, version: v, actor: 'bench' });
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 60 });
    let predictionJson = 0;
    let feedbackJson = 0;
    for (let start = 0; start < N; start += BATCH) {
      const ids = Array.from({ length: Math.min(BATCH, N - start) }, (_, k) => start + k);
      const predictions = ids.map(predictionRecord);
      const feedback = ids.map(feedbackRecord);
      for (const p of predictions) predictionJson += Buffer.byteLength(JSON.stringify(p));
      for (const f of feedback) feedbackJson += Buffer.byteLength(JSON.stringify(f));
      const a = await recorder.recordPredictions(predictions, { durable: true });
      const b = await recorder.recordFeedbackBatch(feedback, { durable: true });
      if (a.rejected.length || b.rejected.length) throw new Error('storage bench: records rejected');
    }
    await recorder.close();
    await db.knex.raw('vacuum (analyze) predictions, feedback, requests, metric_rollups');
    // A partitioned table has no storage of its own: its size is its partitions'.
    const size = async (table: string) =>
      Number(
        (
          (await db.knex.raw(
            `select pg_total_relation_size(?::regclass)
                    + coalesce((select sum(pg_total_relation_size(relid)) from pg_partition_tree(?::regclass)
                                 where relid <> ?::regclass), 0) as b`,
            [table, table, table],
          )) as { rows: Array<{ b: string }> }
        ).rows[0]!.b,
      );
    const perMillion = (bytes: number) => Math.round((bytes * 1_000_000) / N);
    const [predictions, feedback, requests, rollups] = [
      await size('predictions'),
      await size('feedback'),
      (await size('requests')) + (await size('raw_data_days')),
      await size('metric_rollups'),
    ];
    const span = 'the synthetic hour of traffic (60 one-minute buckets, 2 versions)';
    return [
      benchResult(
        'storage.predictions_bytes_per_million',
        perMillion(predictions),
        'bytes',
        'the records as JSON',
        perMillion(predictionJson),
        `${N} predictions through the recorder; heap + indexes + TOAST after VACUUM`,
      ),
      benchResult(
        'storage.feedback_bytes_per_million',
        perMillion(feedback),
        'bytes',
        'the records as JSON',
        perMillion(feedbackJson),
        `${N} feedback records`,
      ),
      benchResult(
        'storage.requests_bytes_per_million',
        perMillion(requests),
        'bytes',
        'the records as JSON',
        perMillion(predictionJson + feedbackJson),
        `each request's day (requests, raw_data_days): what the day partitions cost beside the rows`,
      ),
      benchResult(
        'storage.raw_rows_bytes_per_million',
        perMillion(predictions + feedback + requests),
        'bytes',
        'the records as JSON',
        perMillion(predictionJson + feedbackJson),
        `predictions + feedback + requests; metric_rollups held ${rollups} bytes for ${span}, whatever the count`,
      ),
    ];
  } finally {
    await db.drop();
  }
}
