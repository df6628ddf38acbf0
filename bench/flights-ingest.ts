import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { localDay } from '../examples/flights-model/data.js';
import { trainFlightsModel } from '../examples/flights-model/model.js';
import { flightsReplay, type FlightsReplay } from '../src/demo/flights-replay.js';
import { createRecorder } from '../src/ingest/recorder.js';
import { registerVersion } from '../src/registry/registry.js';
import { createBenchDatabase } from './bench-database.js';
import { createPredictionsCopy } from './predictions-copy.js';
import { benchResult, type BenchResult } from './result.js';

const MODEL = 'flights';
const CHAMPION = '1.0.0';
const CHALLENGER = '1.1.0';
const CHUNK = 5_000;
const T0 = Date.UTC(2026, 10, 1);

/** Flight i as the demo's model server reports it in shadow mode: served by the champion, scored by the challenger. */
function records(replay: FlightsReplay, i: number) {
  const q = replay.request(i);
  const base = {
    requestId: `f-${i}`,
    model: MODEL,
    features: q.features!,
    segment: q.segment!,
    latencyMs: 20 + (i % 7),
    at: new Date(T0 + Math.floor(i / 10)).toISOString(),
  };
  const answer = (v: string) => q.predict(v) as { label: boolean; probability: number };
  const c = answer(CHAMPION);
  const t = answer(CHALLENGER);
  return {
    predictions: [
      { ...base, version: CHAMPION, role: 'served', prediction: c.label, probability: c.probability },
      { ...base, version: CHALLENGER, role: 'shadow', prediction: t.label, probability: t.probability },
    ],
    feedback: { model: MODEL, requestId: base.requestId, actual: q.actual },
  };
}

const quote = (v: string): string => `"${v.replace(/"/g, '""')}"`;

/**
 * The same prediction rows through a bare COPY (no validation, no rollups, no outcomes): the ceiling of the
 * recorder on this data. Built chunk by chunk as the rawCopy of bench/ingest.ts is, CSV building included.
 */
async function rawCopy(pool: pg.Pool, replay: FlightsReplay): Promise<number> {
  // Times only grow with i: the first and last flights bound the days.
  const days = [0, replay.flights - 1].map((j) => records(replay, j).predictions[0]!.at.slice(0, 10));
  await createPredictionsCopy((sql) => pool.query(sql), 'predictions_copy', days);
  const client = await pool.connect();
  const t0 = performance.now();
  try {
    for (let i = 0; i < replay.flights; i += CHUNK) {
      let data = '';
      for (let j = i; j < Math.min(i + CHUNK, replay.flights); j++)
        for (const p of records(replay, j).predictions)
          data += `default,${quote(p.requestId)},,${p.model},${p.version},${p.role},"",${p.probability},${p.prediction ? 'true' : 'false'},${p.latencyMs},f,,,,${quote(JSON.stringify(p.features))},${quote(p.segment)},${p.at},${p.at.slice(0, 10)}\n`;
      await pipeline(
        Readable.from([data]),
        client.query(
          copyFrom(
            'COPY predictions_copy (tenant_id, request_id, unit_id, model, version, role, rollout_id, value, prediction, latency_ms, error, error_code, metrics, features_hash, features, segment, at, day) FROM STDIN WITH (FORMAT csv)',
          ),
        ),
      );
    }
  } finally {
    client.release();
  }
  return (2 * replay.flights) / ((performance.now() - t0) / 1000);
}

/**
 * Ingestion of the flights demo's replay (issue #20): a million real flights of May–June 2001, each a served
 * prediction of the champion and a shadow one of the challenger (label, probability, features, origin as
 * the segment), then each flight's outcome, through one recorder as fast as it takes them. Predictions per
 * second against the same rows through a bare COPY in the same run; the outcomes' rate in the notes.
 */
export async function runFlightsIngestBench(): Promise<BenchResult[]> {
  const months = {
    trainFrom: localDay('2001-03-01'),
    trainTo: localDay('2001-05-01'),
    holdoutFrom: localDay('2001-05-01'),
    holdoutTo: localDay('2001-05-02'),
    sampleEvery: 4,
  };
  const artifacts = {
    [CHAMPION]: await trainFlightsModel({
      model: MODEL,
      version: CHAMPION,
      featureSet: 'schedule',
      ...months,
    }),
    [CHALLENGER]: await trainFlightsModel({
      model: MODEL,
      version: CHALLENGER,
      featureSet: 'schedule+airports',
      ...months,
    }),
  };
  const replay = await flightsReplay({
    artifacts,
    from: localDay('2001-05-01'),
    to: localDay('2001-07-01'),
    segmentByOrigin: true,
  });
  const db = await createBenchDatabase('flights_ingest');
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    for (const version of [CHAMPION, CHALLENGER])
      await registerVersion(db.knex, { model: MODEL, version, actor: 'bench' });
    const recorder = createRecorder({ pool, validateModels: true });
    const t0 = performance.now();
    for (let i = 0; i < replay.flights; i += CHUNK) {
      const batch = [];
      for (let j = i; j < Math.min(i + CHUNK, replay.flights); j++)
        batch.push(...records(replay, j).predictions);
      await recorder.recordPredictions(batch);
    }
    await recorder.flush();
    const predictionRate = (2 * replay.flights) / ((performance.now() - t0) / 1000);
    const t1 = performance.now();
    for (let i = 0; i < replay.flights; i += CHUNK) {
      const batch = [];
      for (let j = i; j < Math.min(i + CHUNK, replay.flights); j++) batch.push(records(replay, j).feedback);
      await recorder.recordFeedbackBatch(batch);
    }
    await recorder.close();
    const feedbackRate = replay.flights / ((performance.now() - t1) / 1000);
    const stats = await db.knex.raw(
      `select (select count(*) from predictions) as predictions, (select count(*) from segment_rollups) as segment_rows`,
    );
    const { predictions, segment_rows: segmentRows } = stats.rows[0] as {
      predictions: string;
      segment_rows: string;
    };
    const copyRate = await rawCopy(pool, replay);
    return [
      benchResult(
        'flights_replay_ingest_records_per_s_vs_raw_copy',
        Math.round(predictionRate),
        'records/s',
        'raw COPY of the same prediction rows into the same table, one stream',
        Math.round(copyRate),
        `${replay.flights} real flights (May–June 2001) as ${predictions} predictions (served champion + shadow challenger: label, probability, features, origin as segment) through one recorder; ` +
          `then ${replay.flights} outcomes at ${Math.round(feedbackRate)} records/s (correct and log loss per version and segment, shadow pairs); ${segmentRows} segment rollup rows`,
      ),
    ];
  } finally {
    await pool.end();
    await db.drop();
  }
}
