import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { quantileSorted } from 'simple-statistics';
import { ArenaClient } from '../src/client/arena-client.js';
import type { Knex } from '../src/db/knex.js';
import { createLogger } from '../src/log.js';
import type { PolicyInput } from '../src/policy/policy.js';
import { registerVersion, setChampion } from '../src/registry/registry.js';
import type { RolloutStatus } from '../src/rollout/types.js';
import { createRouter } from '../src/routing/router.js';
import type { RoutingEntry } from '../src/routing/table.js';
import type { VersionProfile } from '../src/simulate/traffic.js';
import { createWorker } from '../src/worker/create-worker.js';
import { installWorkerRuntime } from '../src/worker/runtime.js';
import { startTraffic } from '../src/simulate/traffic.js';
import { startOwnTemporalServer, type OwnTemporalServer } from '../test/support/temporal-dev-server.js';
import { spawnWorkerProcess } from '../test/support/worker-process.js';
import { createBenchDatabase } from './bench-database.js';
import { benchResult, type BenchResult } from './result.js';

/**
 * Rollout benchmarks (issue 6, "Measure"):
 *
 * - rollback_reaction_ms: a canary is healthy and analyzed every second; the challenger starts failing every
 *   request; the clock runs from the first failing batch handed to the recorder (durable writes) until a
 *   separate router (createRouter, LISTEN/NOTIFY + 5 s polling, as a model server runs it) applies a routing
 *   entry in which only the champion serves.
 * - concurrent_rollouts_1000: N rollouts (BENCH_ROLLOUTS_N, default 1000) active at once on one `arena
 *   worker` child process, each analyzing every 5 s with no traffic (every analysis is "waiting for data",
 *   which still runs the activity and its rollup queries). Reports the worker's RSS and the p99 analysis lag
 *   (time between successive analyses of a rollout, from analyses.at, minus the interval).
 *
 * Both run on a Temporal dev server of their own (free ports, temporary database file), so a thousand
 * workflows never load the shared dev stack's server, and on a throw-away database of the stack's Postgres.
 */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (line: string): void => void process.stderr.write(`  [rollouts] ${line}\n`);

/** Linear interpolation between order statistics (R type 7) of sorted values; NaN when there are none. */
const quantile = (sorted: number[], q: number): number =>
  sorted.length ? quantileSorted(sorted, q) : Number.NaN;

const round = (x: number, digits = 0): number => Number(x.toFixed(digits));

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T>(
  items: T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

async function registerModel(knex: Knex, model: string, versions: string[]): Promise<void> {
  for (const version of versions) await registerVersion(knex, { model, version, actor: 'bench' });
  await setChampion(knex, { model, version: versions[0]!, actor: 'bench' });
}

const onlyChampion = (e: RoutingEntry): boolean =>
  e.challenger === null || e.mode === 'off' || (e.mode === 'canary' && e.weightBp === 0);

// ---------------------------------------------------------------------------------------------------------
// rollback_reaction_ms

const REACTION_POLICY: PolicyInput = {
  approval: { required: false },
  stages: [{ mode: 'canary', weight: 50, duration: '30m' }],
  analysis: { interval: '1s', minSamples: 40, maxExtension: '1m', alpha: 0.05, tuningN: 500 },
  // Equal versions while healthy: a wide degradation limit keeps the primary metric from rolling back by chance.
  primaryMetric: {
    name: 'abs_error',
    direction: 'lower',
    minImprovement: 0.02,
    rollbackRelativeDegradation: 0.5,
  },
  guardrails: [
    { metric: 'error', max: 0.01, rollbackAbove: 0.05 },
    { metric: 'latency_ms', quantile: 0.95, max: 500, rollbackRelativeIncrease: 1.0 },
  ],
  onInconclusive: 'rollback',
  watch: { duration: '1s' },
};

interface Trial {
  fromSubmitMs: number;
  fromWriteMs: number;
  decision: string | null;
  state: string;
}

async function rollbackReaction(server: OwnTemporalServer): Promise<BenchResult[]> {
  const trials = Number(process.env.BENCH_ROLLBACK_TRIALS ?? 10);
  const healthyMs = 3_000;
  const rate = 400;
  const db = await createBenchDatabase('rollback');
  installWorkerRuntime();
  const connection = await Connection.connect({ address: server.address });
  const native = await NativeConnection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const taskQueue = `bench-rollback-${randomUUID()}`;
  const worker = await createWorker({
    connection: native,
    namespace: server.namespace,
    taskQueue,
    knex: db.knex,
    log: createLogger('warn'),
    rollupBucketMs: 1000,
  });
  const running = worker.run();
  // The router whose reaction is measured: a model server's, separate from the traffic generator's.
  const router = await createRouter({ databaseUrl: db.url });
  const arena = new ArenaClient({ temporal: client, knex: db.knex, taskQueue, workflowIdPrefix: 'bench' });
  const results: Trial[] = [];
  try {
    for (let t = 0; t < trials; t++) {
      const model = `react${t}`;
      const profiles: Record<string, VersionProfile> = { '1.0.0': { noise: 10 }, '1.1.0': { noise: 10 } };
      await registerModel(db.knex, model, Object.keys(profiles));
      await router.refresh();
      const traffic = await startTraffic({
        databaseUrl: db.url,
        model,
        profiles,
        ratePerSecond: rate,
        seed: t + 1,
        durable: true,
      });
      try {
        const { rolloutId } = await arena.startRollout({
          model,
          challenger: '1.1.0',
          policy: REACTION_POLICY,
          proposedBy: 'bench',
        });
        // Healthy canary first: analyzed with data for a few seconds, the router serving the split.
        let status: RolloutStatus;
        const deadline = Date.now() + 60_000;
        for (;;) {
          status = await arena.status(rolloutId);
          if (status.state === 'canary' && (status.lastAnalysis?.samples.challenger ?? 0) >= 40) break;
          if (Date.now() > deadline || !['proposed', 'canary'].includes(status.state))
            throw new Error(
              `trial ${t}: canary not healthy: ${status.state} ${status.lastAnalysis?.summary ?? ''}`,
            );
          await sleep(100);
        }
        await sleep(healthyMs);
        const before = await arena.status(rolloutId);
        if (before.state !== 'canary')
          throw new Error(`trial ${t}: left the canary while healthy: ${before.decision}`);
        if (router.entry(model)?.mode !== 'canary')
          throw new Error(`trial ${t}: router does not see the canary`);

        const switched = new Promise<number>((resolve) => {
          const onChange = (e: RoutingEntry): void => {
            if (e.model !== model || !onlyChampion(e)) return;
            router.off('change', onChange);
            resolve(performance.timeOrigin + performance.now());
          };
          router.on('change', onChange);
        });
        // The challenger breaks: every request it serves fails from now on.
        profiles['1.1.0'] = { noise: 10, errorRate: 1 };
        const servedOnlyChampionAt = await Promise.race([
          switched,
          sleep(120_000).then(() => {
            throw new Error(`trial ${t}: the router still serves the challenger after 120 s`);
          }),
        ]);
        const submitted = traffic.firstErrorSubmittedAt('1.1.0')!;
        const written = traffic.firstErrorWrittenAt('1.1.0') ?? submitted;
        const final = await arena.result(rolloutId);
        results.push({
          fromSubmitMs: servedOnlyChampionAt - submitted,
          fromWriteMs: servedOnlyChampionAt - written,
          decision: final.decision,
          state: final.state,
        });
        log(
          `trial ${t + 1}/${trials}: ${round(servedOnlyChampionAt - submitted)} ms (${final.state}: ${final.decision ?? ''})`,
        );
      } finally {
        await traffic.stop();
      }
    }
  } finally {
    await router.close();
    worker.shutdown();
    await running;
    await native.close();
    await connection.close();
    await db.drop();
  }

  const rolledBack = results.filter((r) => r.state === 'rolled_back');
  const reaction = rolledBack.map((r) => r.fromSubmitMs).sort((a, b) => a - b);
  const fromWrite = rolledBack.map((r) => r.fromWriteMs).sort((a, b) => a - b);
  const p50 = round(quantile(reaction, 0.5));
  const p90 = round(quantile(reaction, 0.9));
  const seedsPromise = 300_000;
  const common =
    `${rolledBack.length}/${results.length} trials rolled back; analysis interval 1 s, 1 s rollup buckets; ` +
    `canary 50% at ${rate} req/s, healthy ${healthyMs / 1000} s, then every challenger request fails ` +
    `(guardrail error rollbackAbove 0.05); clock from the first failing batch handed to the recorder to a ` +
    `separate createRouter applying an entry where only the champion serves`;
  return [
    benchResult(
      'rollback_reaction_ms',
      p50,
      'ms',
      "the seeds' promise: < 5 minutes (stated, not measured)",
      seedsPromise,
      `p50; ${common}; p90 ${p90} ms, max ${round(reaction.at(-1) ?? Number.NaN)} ms; from the durable write ` +
        `of that batch p50 ${round(quantile(fromWrite, 0.5))} ms; target p50 ≤ 1500 ms`,
    ),
    benchResult(
      'rollback_reaction_p90_ms',
      p90,
      'ms',
      "the seeds' promise: < 5 minutes (stated, not measured)",
      seedsPromise,
      `p90 of the same ${reaction.length} trials as rollback_reaction_ms`,
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// concurrent_rollouts_1000

const CONCURRENT_POLICY: PolicyInput = {
  approval: { required: false },
  stages: [{ mode: 'canary', weight: 5, duration: '2h' }],
  analysis: { interval: '5s', minSamples: 1000, maxExtension: '1h', alpha: 0.05, tuningN: 20_000 },
  onInconclusive: 'rollback',
};

async function concurrentRollouts(server: OwnTemporalServer): Promise<BenchResult[]> {
  const n = Number(process.env.BENCH_ROLLOUTS_N ?? 1000);
  const measureMs = Number(process.env.BENCH_ROLLOUTS_MEASURE_S ?? 60) * 1000;
  const canaryWaitMs = Number(process.env.BENCH_ROLLOUTS_CANARY_WAIT_S ?? 120) * 1000;
  const intervalMs = 5_000;
  const db = await createBenchDatabase('concurrent');
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const taskQueue = `bench-concurrent-${randomUUID()}`;
  const worker = spawnWorkerProcess({
    databaseUrl: db.url,
    temporalAddress: server.address,
    namespace: server.namespace,
    taskQueue,
    rollupBucketSeconds: 60,
    // e.g. BENCH_WORKER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where the worker spends.
    nodeArgs: process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
  });
  const cpuTicks = (pid: number | undefined): number => {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return Number(fields[11]) + Number(fields[12]);
    } catch {
      return Number.NaN;
    }
  };
  try {
    await worker.ready;
    await sleep(5_000);
    const idleRss = worker.rssMb()!;
    log(`worker pid ${worker.pid} idle RSS ${round(idleRss)} MiB; registering ${n} models`);

    const models = Array.from({ length: n }, (_, i) => `m${String(i).padStart(5, '0')}`);
    const setupStarted = Date.now();
    await pool(models, 8, (m) => registerModel(db.knex, m, ['1.0.0', '1.1.0']));
    log(`registered in ${round((Date.now() - setupStarted) / 1000, 1)} s; starting ${n} rollouts`);

    const arena = new ArenaClient({ temporal: client, knex: db.knex, taskQueue, workflowIdPrefix: 'bench' });
    const startStarted = Date.now();
    await pool(models, 16, async (model) => {
      await arena.startRollout({
        model,
        challenger: '1.1.0',
        policy: CONCURRENT_POLICY,
        proposedBy: 'bench',
      });
    });
    log(`started in ${round((Date.now() - startStarted) / 1000, 1)} s; waiting for all to be in canary`);

    // Every rollout should be in its analyze-wait loop before measuring; on a machine that cannot keep up,
    // measure after a bounded wait anyway and say how many got there.
    const inCanary = async (): Promise<number> =>
      Number((await db.knex('rollouts').where({ state: 'canary' }).count({ c: '*' }))[0]?.c ?? 0);
    const canaryDeadline = Date.now() + canaryWaitMs;
    let lastLogged = Date.now();
    let reached = await inCanary();
    while (reached < n && Date.now() < canaryDeadline) {
      if (Date.now() - lastLogged > 15_000) {
        log(`${reached}/${n} in canary`);
        lastLogged = Date.now();
      }
      await sleep(1_000);
      reached = await inCanary();
    }
    const allReachedAfter = reached >= n ? round((Date.now() - startStarted) / 1000, 1) : undefined;
    log(
      allReachedAfter !== undefined
        ? `all ${n} in canary ${allReachedAfter} s after the first start`
        : `only ${reached}/${n} in canary after ${canaryWaitMs / 1000} s; measuring anyway`,
    );
    // Two intervals of warm-up, so the rollouts are in their steady analyze-wait loop.
    if (allReachedAfter !== undefined) await sleep(2 * intervalMs);
    const inCanaryAtStart = await inCanary();
    const from = new Date();
    const cpuBefore = { worker: cpuTicks(worker.pid), server: cpuTicks(server.pid()) };
    let peakRss = 0;
    while (Date.now() - from.getTime() < measureMs) {
      const rss = worker.rssMb();
      if (rss === undefined) throw new Error(`the worker died:\n${worker.output().slice(-3_000)}`);
      peakRss = Math.max(peakRss, rss);
      await sleep(1_000);
    }
    const to = new Date();
    const seconds = (to.getTime() - from.getTime()) / 1000;
    const cpu = {
      worker: round((cpuTicks(worker.pid) - cpuBefore.worker) / seconds),
      server: round((cpuTicks(server.pid()) - cpuBefore.server) / seconds),
    };
    const hwm = worker.peakRssMb() ?? peakRss;
    const inCanaryAtEnd = await inCanary();

    // Closed gaps: successive analyses of a rollout, the later one inside the window (the earlier one may
    // precede it). Open gaps: a rollout in canary whose last analysis is older than the interval at the end
    // of the window is overdue by at least that much; leaving those out would hide starved rollouts.
    const closed = (await db.knex.raw(
      `select gap_ms from (
         select at, extract(epoch from (at - lag(at) over (partition by rollout_id order by seq))) * 1000 as gap_ms
           from analyses) g
        where at >= ? and at < ? and gap_ms is not null`,
      [from, to],
    )) as { rows: Array<{ gap_ms: number }> };
    const open = (await db.knex.raw(
      `select extract(epoch from (?::timestamptz - coalesce(max(a.at), max(e.at)))) * 1000 as gap_ms
         from rollouts r
         join rollout_events e on e.rollout_id = r.id and e.to_state = 'canary'
         left join analyses a on a.rollout_id = r.id and a.at < ?
        where r.state = 'canary'
        group by r.id`,
      [to, to],
    )) as { rows: Array<{ gap_ms: number }> };
    const overdue = open.rows.map((r) => Number(r.gap_ms)).filter((g) => g > intervalMs);
    const lags = [...closed.rows.map((r) => Number(r.gap_ms)), ...overdue]
      .map((g) => g - intervalMs)
      .sort((a, b) => a - b);
    const total = Number(
      (await db.knex('analyses').where('at', '>=', from).where('at', '<', to).count({ total: '*' }))[0]
        ?.total ?? 0,
    );
    const achieved = total / seconds;
    const expected = inCanaryAtStart / (intervalMs / 1000);
    const p50 = round(quantile(lags, 0.5));
    const p99 = round(quantile(lags, 0.99));
    const max = round(lags.at(-1) ?? Number.NaN);
    log(
      `${n} rollouts (${inCanaryAtStart}→${inCanaryAtEnd} in canary): RSS ${round(peakRss)} MiB (idle ${round(idleRss)}), ` +
        `lag p50 ${p50} p99 ${p99} max ${max} ms over ${lags.length} gaps (${overdue.length} overdue), ` +
        `${round(achieved, 1)} analyses/s (expected ${round(expected, 1)}); CPU % worker ${cpu.worker}, server ${cpu.server}`,
    );
    const detail =
      `${n} rollouts started on one \`arena worker\` child process (default slots: 200 workflow tasks, 200 local activities, 2000 activities), analysis every 5 s, no traffic ` +
      `("waiting for data"); ${
        allReachedAfter !== undefined
          ? `all in canary ${allReachedAfter} s after the first start`
          : `only ${inCanaryAtStart} in canary after ${canaryWaitMs / 1000} s (${inCanaryAtEnd} at the end)`
      }; measured over ${round(seconds)} s; ${round(achieved, 1)} analyses/s achieved of ${round(expected, 1)} ` +
      `expected; CPU worker ${cpu.worker}%, Temporal server ${cpu.server}%; own Temporal dev server (SQLite ${server.dbFile ? 'file' : 'in memory'}) ` +
      `and the stack's Postgres on the same ${os.cpus().length}-CPU machine (load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})`;
    return [
      benchResult(
        'worker_rss_mb_1000_rollouts',
        round(peakRss),
        'MiB',
        'RSS of the same worker idle, before any rollout (MiB)',
        round(idleRss),
        `peak RSS sampled each second; VmHWM ${round(hwm)} MiB; ${detail}; target ≤ 1536 MiB`,
      ),
      benchResult(
        'analysis_lag_p99_ms',
        p99,
        'ms',
        'the analysis interval itself (ms)',
        intervalMs,
        `lag = time between successive analyses of a rollout (analyses.at) minus the interval, over ${lags.length} ` +
          `gaps of which ${overdue.length} still open (overdue at the end, counted as lower bounds); p50 ${p50} ms, ` +
          `max ${max} ms; ${detail}; target p99 < 2000 ms`,
      ),
    ];
  } finally {
    await worker.stop(10_000);
    await connection.close();
    await db.drop();
  }
}

export async function runRolloutBench(): Promise<BenchResult[]> {
  // In memory by default: the dev server's SQLite file adds its own write cost to every task, which is not
  // Arena's; BENCH_TEMPORAL_DB=file measures with a file as `arena dev up` runs it.
  const server = await startOwnTemporalServer({ persistent: process.env.BENCH_TEMPORAL_DB === 'file' });
  try {
    const results: BenchResult[] = [];
    if (process.env.BENCH_ROLLOUTS_SKIP_REACTION !== '1') results.push(...(await rollbackReaction(server)));
    if (process.env.BENCH_ROLLOUTS_SKIP_CONCURRENT !== '1')
      results.push(...(await concurrentRollouts(server)));
    return results;
  } finally {
    await server.destroy();
  }
}
