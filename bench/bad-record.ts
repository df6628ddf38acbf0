import pg from 'pg';
import { median } from 'simple-statistics';
import { createRecorder } from '../src/ingest/recorder.js';
import { registerVersion } from '../src/registry/registry.js';
import { createBenchDatabase } from './bench-database.js';
import { benchResult, type BenchResult } from './result.js';
import { BENCH_MODEL, BENCH_VERSIONS, predictionRecord } from './synthetic-traffic.js';

/**
 * What one bad record costs a batch of 5,000 (issue 15). Before, a record the database refused made the
 * recorder rewrite the whole batch one record per transaction (about 70× slower). Now a record PostgreSQL
 * cannot store is refused at validation, and a refusal only the database can make (a constraint of its
 * own) is found by bisecting the batch. Durable writes (the gateway's path), median of REPEATS, each on
 * fresh request ids; the baseline is the same batch with no bad record, measured in the same run.
 */
const BATCH = 5_000;
const REPEATS = 7;
const BAD_INDEX = 2_500;

export async function runBadRecordBench(): Promise<BenchResult[]> {
  const db = await createBenchDatabase('bad_record');
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    for (const version of BENCH_VERSIONS)
      await registerVersion(db.knex, { model: BENCH_MODEL, version, actor: 'bench' });
    // A rule only the database knows: validation cannot see it, so the writer must find the record.
    await db.knex.raw(
      `alter table predictions add constraint bench_refused check (request_id not like '%-refused')`,
    );
    const recorder = createRecorder({ pool, flushIntervalMs: 5 });
    let next = 0;
    const batch = (bad?: (r: Record<string, unknown>, i: number) => Record<string, unknown>) => {
      const out: Array<Record<string, unknown>> = [];
      for (let i = 0; i < BATCH; i++) {
        const r = predictionRecord(next++) as unknown as Record<string, unknown>;
        out.push(bad && i === BAD_INDEX ? bad(r, i) : r);
      }
      return out;
    };
    const time = async (
      make: () => Array<Record<string, unknown>>,
      expectRejected: number,
    ): Promise<number> => {
      const runs: number[] = [];
      for (let k = 0; k < REPEATS; k++) {
        const records = make();
        const t0 = performance.now();
        const outcome = await recorder.recordPredictions(records, { durable: true });
        runs.push(performance.now() - t0);
        if (outcome.rejected.length !== expectRejected)
          throw new Error(`expected ${expectRejected} rejected, got ${JSON.stringify(outcome.rejected)}`);
      }
      return median(runs);
    };
    await time(() => batch(), 0); // warm-up
    const good = await time(() => batch(), 0);
    const refusedByDatabase = await time(
      () => batch((r) => ({ ...r, requestId: `${String(r.requestId)}-refused` })),
      1,
    );
    const refusedAtValidation = await time(() => batch((r) => ({ ...r, errorCode: 'E\u00001' })), 1);
    await recorder.close();
    return [
      benchResult(
        'ingest_batch_ms_one_db_refused_record_in_5000',
        Number(refusedByDatabase.toFixed(1)),
        'ms',
        'the same batch of 5,000 with no bad record (ms)',
        Number(good.toFixed(1)),
        `durable recordPredictions, median of ${REPEATS}; the record is refused by a CHECK constraint only PostgreSQL knows, found by bisection`,
      ),
      benchResult(
        'ingest_batch_ms_one_nul_record_in_5000',
        Number(refusedAtValidation.toFixed(1)),
        'ms',
        'the same batch of 5,000 with no bad record (ms)',
        Number(good.toFixed(1)),
        `durable recordPredictions, median of ${REPEATS}; a NUL byte in errorCode, refused at validation (before issue 15 the database refused it and the batch was rewritten record by record)`,
      ),
    ];
  } finally {
    await pool.end();
    await db.drop();
  }
}
