import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import getPort from 'get-port';
import pg from 'pg';
import { median } from 'simple-statistics';
import { readSegmentSums } from '../src/analysis/segment-reader.js';
import { readVersionMetrics } from '../src/analysis/rollup-reader.js';
import { createRecorder } from '../src/ingest/recorder.js';
import { registerVersion } from '../src/registry/registry.js';
import { createBenchDatabase, type BenchDatabase } from './bench-database.js';
import { createPredictionsCopy } from './predictions-copy.js';
import { perRowInsert, rawCopy } from './raw-copy.js';
import { benchResult, type BenchResult } from './result.js';
import { BENCH_MODEL, BENCH_VERSIONS, feedbackRecord, predictionRecord } from './synthetic-traffic.js';

const execFileAsync = promisify(execFile);
const RECORDER_N = Number(process.env.BENCH_INGEST_N ?? 1_000_000);
const TOTAL_N = Number(process.env.BENCH_INGEST_TOTAL ?? 10_000_000);
const INSERT_N = 20_000;
const FEEDBACK_EVERY = 10;
/** Segments of the records the child process writes (the per-segment analysis at 10M). */
const SEGMENTS = 50;

function child(script: string, args: string[]): Promise<Record<string, number>> {
  const file = fileURLToPath(new URL(script, import.meta.url));
  return execFileAsync(process.execPath, ['--import', 'tsx', file, ...args], {
    maxBuffer: 1 << 20,
    timeout: 30 * 60_000,
  }).then(({ stdout }) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>);
}

/** `arena gateway` in a child process on a free port; resolves once /healthz answers. */
async function startGatewayProcess(
  databaseUrl: string,
  tokens: Array<{ token: string; name: string; tenant: string; roles: string[] }>,
): Promise<{ base: string; stop(): Promise<void> }> {
  const port = await getPort({ host: '127.0.0.1' });
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'gateway', '--port', String(port)],
    {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        ARENA_GATEWAY_TOKENS: JSON.stringify(tokens),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`arena gateway exited with ${proc.exitCode}:\n${stderr}`);
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`arena gateway did not answer /healthz within 60 s:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    base,
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Each timed phase starts from a quiet database: the previous phase's dirty pages and pending autovacuum
 * would otherwise land on whichever phase runs next (measured: the gateway phase ran at 37k records/s
 * right after the recorder's million rows and at 55–60k/s on its own).
 */
async function settle(db: BenchDatabase): Promise<void> {
  await db.knex.raw('vacuum analyze');
  await db.knex.raw('checkpoint');
}

async function timeAnalysis(db: BenchDatabase): Promise<{ rollupMs: number; scanMs: number }> {
  const versions = [...BENCH_VERSIONS];
  const rollup: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    // What an analysis under the default policy reads (src/analysis/periods.ts binnedMetrics): every
    // metric's sums, and bins only for the p95 latency guardrail; the scan below computes the same.
    await readVersionMetrics(db.knex, {
      model: BENCH_MODEL,
      versions,
      histograms: ['latency_ms'],
      moments: [],
    });
    rollup.push(performance.now() - t0);
  }
  // The same figures (n, mean, variance of every metric per version; latency quantiles) by scanning raw rows.
  const scan: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await db.knex.raw(
      `select p.version, count(*), avg(p.error::int), var_samp(p.error::int), avg(p.latency_ms), var_samp(p.latency_ms),
              percentile_cont(array[0.5, 0.95, 0.99]) within group (order by p.latency_ms),
              count(f.value), avg(abs(p.value - f.value)), var_samp(abs(p.value - f.value)),
              avg((p.value - f.value)^2), var_samp((p.value - f.value)^2)
         from predictions p left join feedback f on f.tenant_id = p.tenant_id and f.model = p.model and f.request_id = p.request_id
        where p.tenant_id = 'default' and p.model = ?
        group by p.version`,
      [BENCH_MODEL],
    );
    scan.push(performance.now() - t0);
  }
  return { rollupMs: median(rollup), scanMs: median(scan) };
}

/** An analysis with the per-segment check: the pooled read of timeAnalysis and the segment metric's sums. */
async function timeSegmentAnalysis(db: BenchDatabase): Promise<number> {
  const versions = [...BENCH_VERSIONS];
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = performance.now();
    await Promise.all([
      readVersionMetrics(db.knex, { model: BENCH_MODEL, versions, histograms: ['latency_ms'], moments: [] }),
      readSegmentSums(db.knex, {
        tenantId: 'default',
        model: BENCH_MODEL,
        metric: 'abs_error',
        versions,
        role: 'served',
        from: new Date(0),
        to: new Date(Date.UTC(2100, 0, 1)),
      }),
    ]);
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function runIngestBench(): Promise<BenchResult[]> {
  const db = await createBenchDatabase('ingest');
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const results: BenchResult[] = [];
  try {
    for (const version of BENCH_VERSIONS)
      await registerVersion(db.knex, { model: BENCH_MODEL, version, actor: 'bench' });
    const days = [predictionRecord(0).at.slice(0, 10), predictionRecord(RECORDER_N - 1).at.slice(0, 10)];
    await createPredictionsCopy((sql) => db.knex.raw(sql), 'predictions_copy', days);
    await createPredictionsCopy((sql) => db.knex.raw(sql), 'predictions_insert', days);

    // 1. The recorder, in this process, on RECORDER_N records (with their rollups), between two runs of its
    // baseline: this machine's speed drifts by up to a third within minutes, and the mean of a run before
    // and one after keeps that drift out of the ratio.
    await settle(db);
    const copyBefore = await rawCopy(pool, 'predictions_copy', 0, RECORDER_N);
    await db.knex.raw('truncate predictions_copy');
    await settle(db);
    const recorder = createRecorder({ pool, validateModels: true });
    const t0 = performance.now();
    for (let i = 0; i < RECORDER_N; i += 5_000) {
      const batch = [];
      for (let j = i; j < Math.min(i + 5_000, RECORDER_N); j++) batch.push(predictionRecord(j));
      await recorder.recordPredictions(batch);
    }
    await recorder.flush();
    const recorderRate = RECORDER_N / ((performance.now() - t0) / 1000);
    for (let i = 0; i < RECORDER_N; i += FEEDBACK_EVERY * 5_000) {
      const batch = [];
      for (let j = i; j < Math.min(i + FEEDBACK_EVERY * 5_000, RECORDER_N); j += FEEDBACK_EVERY)
        batch.push(feedbackRecord(j));
      await recorder.recordFeedbackBatch(batch);
    }
    await recorder.close();

    await settle(db);
    const copyAfter = await rawCopy(pool, 'predictions_copy', 0, RECORDER_N);
    const copyRate = (copyBefore + copyAfter) / 2;
    await db.knex.raw('truncate predictions_copy');
    await settle(db);
    const copyBinaryRate = await rawCopy(pool, 'predictions_copy', 0, RECORDER_N, 1, 'binary');
    await db.knex.raw('truncate predictions_copy');
    await settle(db);
    const copyRate2 = await rawCopy(pool, 'predictions_copy', 0, RECORDER_N, 2);
    await settle(db);
    const insertRate = await perRowInsert(pool, 'predictions_insert', 0, INSERT_N);
    results.push(
      benchResult(
        'ingest_records_per_s',
        Math.round(recorderRate),
        'records/s',
        'one INSERT per record (seeds)',
        Math.round(insertRate),
        `${RECORDER_N} records through createRecorder (validation, COPY, rollups); per-row INSERT over ${INSERT_N}; target ≥ 250000`,
      ),
      benchResult(
        'ingest_records_per_s_vs_raw_copy',
        Math.round(recorderRate),
        'records/s',
        'raw COPY of the same rows into the same table, one stream (mean of a run before and one after)',
        Math.round(copyRate),
        `target ratio ≥ 0.6; the recorder also validates every record and maintains rollups; raw COPY before ` +
          `the recorder ${Math.round(copyBefore)}, after ${Math.round(copyAfter)} rows/s; in the binary format the ` +
          `recorder sends, ${Math.round(copyBinaryRate)} rows/s (ratio ${(recorderRate / copyBinaryRate).toFixed(3)}); raw COPY over two ` +
          `connections at once: ${Math.round(copyRate2)} records/s (the ceiling with more streams on this machine)`,
      ),
    );

    const at1m = await timeAnalysis(db);
    results.push(
      benchResult(
        'analysis_ms_at_1m',
        Number(at1m.rollupMs.toFixed(2)),
        'ms',
        'full scan of predictions ⨝ feedback (ms)',
        Number(at1m.scanMs.toFixed(1)),
        `${RECORDER_N} predictions; readVersionMetrics over both versions: every metric's sums, latency bins (as an analysis under the default policy)`,
      ),
    );

    // 2. The gateway over loopback HTTP, load from a second process, batches of 500. The gateway runs as
    // `arena gateway` in a process of its own, as it is deployed.
    const token = 'bench-ingest-token-0123456789';
    const gateway = await startGatewayProcess(db.url, [
      { token, name: 'bench', tenant: 'default', roles: ['ingest'] },
    ]);
    const base = gateway.base;
    await settle(db);
    try {
      const batched = await child('./gateway-load-child.ts', [
        base,
        token,
        String(TOTAL_N + 1_000_000),
        '300000',
        '500',
        '8',
      ]);
      // The same load with twice the requests in flight: on these two cores the client, the gateway and
      // PostgreSQL share the CPU, and at 8 in flight neither the gateway nor PostgreSQL is saturated (each
      // batch waits on round trips), so this says how much is latency rather than capacity.
      const wider = await child('./gateway-load-child.ts', [
        base,
        token,
        String(TOTAL_N + 1_500_000),
        '300000',
        '500',
        '16',
      ]);
      const single = await child('./gateway-load-child.ts', [
        base,
        token,
        String(TOTAL_N + 2_000_000),
        '3000',
        '1',
        '8',
      ]);
      results.push(
        benchResult(
          'gateway_ingest_records_per_s',
          Math.round(batched.recordsPerSecond!),
          'records/s',
          'one record per request (records/s)',
          Math.round(single.recordsPerSecond!),
          `300000 records, batches of 500, 8 requests in flight from a second process; durable (200 = stored); target ≥ 50000; failures ${batched.failures}; ` +
            `with 16 in flight: ${Math.round(wider.recordsPerSecond!)} records/s (failures ${wider.failures})`,
        ),
      );
    } finally {
      await gateway.stop();
    }

    // 3. Peak RSS of a recorder process ingesting the rest up to TOTAL_N as fast as it can.
    const rest = TOTAL_N - RECORDER_N;
    await settle(db);
    const rss = await child('./ingest-child.ts', [
      db.url,
      String(RECORDER_N),
      String(rest),
      String(FEEDBACK_EVERY),
      String(SEGMENTS),
    ]);
    results.push(
      benchResult(
        'ingest_peak_rss_mb',
        Math.round(rss.peakRssMb!),
        'MiB',
        'RSS of the same process before ingesting (MiB)',
        Math.round(rss.rssBeforeMb!),
        `${rest} records (+ ${Math.round(rest / FEEDBACK_EVERY)} feedback), each in one of ${SEGMENTS} segments, at ${Math.round(rss.predictionsPerSecond!)} records/s; target ≤ 512`,
      ),
    );

    const at10m = await timeAnalysis(db);
    results.push(
      benchResult(
        'analysis_ms_at_10m',
        Number(at10m.rollupMs.toFixed(2)),
        'ms',
        'full scan of predictions ⨝ feedback (ms)',
        Number(at10m.scanMs.toFixed(1)),
        `${TOTAL_N} predictions; ${at1m.rollupMs.toFixed(2)} ms at ${RECORDER_N}; target ≤ 20 ms and flat`,
      ),
    );
    const withSegments = await timeSegmentAnalysis(db);
    results.push(
      benchResult(
        'analysis_ms_at_10m_50_segments',
        Number(withSegments.toFixed(2)),
        'ms',
        'the same analysis without the per-segment check (ms)',
        Number(at10m.rollupMs.toFixed(2)),
        `${TOTAL_N} predictions, ${TOTAL_N - RECORDER_N} of them in ${SEGMENTS} segments; the pooled read plus the per-segment sums of abs_error (src/analysis/segment-reader.ts) for both versions, median of 15; target ≤ 20 ms`,
      ),
    );
    return results;
  } finally {
    await pool.end();
    await db.drop();
  }
}
