import { createHash, randomUUID } from 'node:crypto';
import { max, median } from 'simple-statistics';
import { registerVersion, setChampion } from '../src/registry/registry.js';
import { createRouter, type Router } from '../src/routing/router.js';
import { changeRouting } from '../src/routing/store.js';
import type { RoutingEntry } from '../src/routing/table.js';
import { spawnRouterProcess, type RouterProcess } from '../test/support/router-process.js';
import { createBenchDatabase, type BenchDatabase } from './bench-database.js';
import { benchResult, type BenchResult } from './result.js';

/**
 * Routing benchmarks (DESIGN.md §8, issue 3):
 *
 * - route_decisions_per_s: router.route() in this process, on one thread, over ROUTING_IDS distinct request
 *   ids, against a real router on a real routing row (canary at 5%). Baseline, same ids, same run: the seeds'
 *   decision, createHash('sha256').update(key).digest('hex') then parseInt(hex, 16) % 10000 per call.
 * - routing_propagation_ms_p50/p99: from changeRouting() resolving (the change is committed) to a router in a
 *   second process applying that generation, over CHANGES changes. Baseline, same changes, same run: a third
 *   process whose router cannot LISTEN and only polls every POLL_BASELINE_MS.
 *
 * Everything runs in a throw-away database that is dropped afterwards.
 */
const MODEL = 'bench-routing';
const ROUTING_IDS = Number(process.env.BENCH_ROUTING_IDS ?? 2_000_000);
const RUNS = Number(process.env.BENCH_ROUTING_RUNS ?? 5);
const UUID_IDS = 1_000_000;
const CHANGES = Number(process.env.BENCH_ROUTING_CHANGES ?? 100);
const POLL_BASELINE_MS = 1_000;
const MAX_GAP_MS = 150;

/**
 * Nearest-rank percentile: an observed latency, not an interpolation between two (simple-statistics'
 * quantile interpolates, R type 7), so it stays hand-written; the published p50/p99 keep their meaning.
 */
function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The seeds' decision: hex digest of the whole key and parseInt of all 64 hex digits, per call. */
function seedRoute(entry: RoutingEntry, requestId: string): { serve: string; bucket: number } {
  const hex = createHash('sha256').update(`${entry.model}:${entry.salt}:${requestId}`).digest('hex');
  const bucket = parseInt(hex, 16) % 10_000;
  const serve =
    entry.mode === 'canary' && entry.challenger && bucket < entry.weightBp
      ? entry.challenger
      : entry.champion!;
  return { serve, bucket };
}

/**
 * Decisions per second over `ids`, counting challenger decisions so the work stays observable. One loop per
 * approach (not a shared loop calling a function argument) keeps each call site monomorphic, so neither side
 * pays for an indirect call the other does not.
 */
function routerRate(router: Router, ids: string[], challenger: string): number {
  let toChallenger = 0;
  const t0 = performance.now();
  for (let i = 0; i < ids.length; i++) if (router.route(MODEL, ids[i]!).serve === challenger) toChallenger++;
  return checked(ids.length, toChallenger, t0);
}

function seedRate(entry: RoutingEntry, ids: string[], challenger: string): number {
  let toChallenger = 0;
  const t0 = performance.now();
  for (let i = 0; i < ids.length; i++) if (seedRoute(entry, ids[i]!).serve === challenger) toChallenger++;
  return checked(ids.length, toChallenger, t0);
}

function checked(n: number, toChallenger: number, t0: number): number {
  const seconds = (performance.now() - t0) / 1000;
  if (toChallenger === 0 || toChallenger === n) throw new Error('degenerate split in the bench');
  return n / seconds;
}

/** Median rates of the router and the seed over several interleaved runs, after a warm-up. */
function measureDecisions(
  router: Router,
  entry: RoutingEntry,
  ids: string[],
): { router: number; seed: number } {
  const challenger = entry.challenger!;
  const warm = ids.slice(0, Math.min(ids.length, 300_000));
  routerRate(router, warm, challenger);
  seedRate(entry, warm, challenger);
  const routerRates: number[] = [];
  const seedRates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    routerRates.push(routerRate(router, ids, challenger));
    seedRates.push(seedRate(entry, ids, challenger));
  }
  return { router: median(routerRates), seed: median(seedRates) };
}

async function benchDecisions(db: BenchDatabase, entry: RoutingEntry): Promise<BenchResult> {
  // databaseUrl as well as knex: createRouter({ knex }) alone cannot derive the LISTEN connection's URL from a
  // knex made by createKnex (knex parses the string into an object); see the report on issue 3.
  const router = await createRouter({ knex: db.knex, databaseUrl: db.url });
  try {
    if (router.entry(MODEL)?.generation !== entry.generation)
      throw new Error('router did not load the table');
    // Request ids shaped like the project's own (`req-N`, as in the ingestion benchmarks), all distinct.
    let ids: string[] = Array.from({ length: ROUTING_IDS }, (_, i) => `req-${i}`);
    const short = measureDecisions(router, entry, ids);
    // 36-character UUIDs make the key longer than one SHA-256 block (55 bytes): two compressions per call.
    ids = Array.from({ length: UUID_IDS }, () => randomUUID());
    const uuid = measureDecisions(router, entry, ids);
    ids = [];
    return benchResult(
      'route_decisions_per_s',
      Math.round(short.router),
      'decisions/s',
      "seeds' decision: createHash('sha256') hex digest + parseInt(hex, 16) % 10000 per call (decisions/s)",
      Math.round(short.seed),
      `router.route() on one thread against a real router (canary 5%), ${ROUTING_IDS} distinct ids "req-N", ` +
        `median of ${RUNS} interleaved runs after a warm-up; target ≥ 1000000. ` +
        `With ${UUID_IDS} UUID ids (key > 55 bytes, two SHA-256 blocks): router ${Math.round(uuid.router)}/s, ` +
        `seed ${Math.round(uuid.seed)}/s. Node ${process.version}.`,
    );
  } finally {
    await router.close();
  }
}

/** When `child` first applied a generation ≥ `generation` (its routers may skip straight past one). */
function appliedAt(child: RouterProcess, generation: number): number | undefined {
  return child.lines.find((l) => l.event === 'change' && l.generation >= generation)?.at;
}

async function benchPropagation(db: BenchDatabase, entry: RoutingEntry): Promise<BenchResult[]> {
  // The router under test: production settings (LISTEN/NOTIFY, default 5 s polling as fallback).
  const listening = spawnRouterProcess(db.url, MODEL);
  // The baseline: the polling fallback alone.
  const pollingOnly = spawnRouterProcess(db.url, MODEL, { noListen: true, pollIntervalMs: POLL_BASELINE_MS });
  try {
    const [ready, baselineReady] = await Promise.all(
      [listening, pollingOnly].map((c) => c.waitFor((l) => l.event === 'ready', 60_000)),
    );
    if (!ready!.listening) throw new Error('the router under test is not listening');
    if (baselineReady!.listening) throw new Error('the baseline router should not be able to listen');

    // A deterministic spread of gaps between changes, so commits fall at every phase of the baseline's poll.
    let seed = 12345;
    const gap = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed % 1000) * (MAX_GAP_MS / 1000);
    };
    const commits: Array<{ generation: number; at: number }> = [];
    const WARMUP = 5;
    for (let i = 0; i < WARMUP + CHANGES; i++) {
      await sleep(gap());
      const next = await changeRouting(db.knex, {
        model: MODEL,
        change: { weightBp: i % 2 ? entry.weightBp : entry.weightBp + 100 },
        actor: 'bench',
      });
      const committedAt = now();
      await listening.waitFor((l) => l.generation >= next.generation, 10_000);
      if (i >= WARMUP) commits.push({ generation: next.generation, at: committedAt });
    }
    const last = commits.at(-1)!.generation;
    await pollingOnly.waitFor((l) => l.generation >= last, POLL_BASELINE_MS * 10);

    const latency = (child: RouterProcess): number[] =>
      commits.map((c) => {
        const at = appliedAt(child, c.generation);
        if (at === undefined) throw new Error(`generation ${c.generation} was never applied`);
        return at - c.at;
      });
    const fast = latency(listening);
    const slow = latency(pollingOnly);
    const skipped = commits.filter(
      (c) => !listening.lines.some((l) => l.event === 'change' && l.generation === c.generation),
    ).length;
    const note =
      `${CHANGES} changes (after ${WARMUP} warm-up), committed every 0–${MAX_GAP_MS} ms; measured from changeRouting() ` +
      `resolving in this process to the router in a second process applying the generation (its 'change' event), ` +
      `timestamps performance.timeOrigin + performance.now() in both processes. The router under test uses ` +
      `LISTEN/NOTIFY with default settings (${skipped} generations skipped). Baseline: the same changes seen by a ` +
      `third process whose router cannot LISTEN (its notification connection points at a closed port) and polls ` +
      `every ${POLL_BASELINE_MS} ms, i.e. the polling fallback alone (the router's default poll is 5000 ms, so its ` +
      `fallback is 5× slower still). Target p99 < 50 ms.`;
    const round = (v: number): number => Number(v.toFixed(2));
    return [
      benchResult(
        'routing_propagation_ms_p50',
        round(percentile(fast, 0.5)),
        'ms',
        `polling fallback alone, every ${POLL_BASELINE_MS} ms (p50 ms)`,
        round(percentile(slow, 0.5)),
        note,
      ),
      benchResult(
        'routing_propagation_ms_p99',
        round(percentile(fast, 0.99)),
        'ms',
        `polling fallback alone, every ${POLL_BASELINE_MS} ms (p99 ms)`,
        round(percentile(slow, 0.99)),
        `max ${round(max(fast))} ms (baseline max ${round(max(slow))} ms). ${note}`,
      ),
    ];
  } finally {
    await Promise.all([listening.stop(), pollingOnly.stop()]);
  }
}

export async function runRoutingBench(): Promise<BenchResult[]> {
  const db = await createBenchDatabase('routing');
  try {
    for (const version of ['1.0.0', '1.1.0']) {
      await registerVersion(db.knex, { model: MODEL, version, actor: 'bench' });
    }
    await setChampion(db.knex, { model: MODEL, version: '1.0.0', actor: 'bench' });
    const entry = await changeRouting(db.knex, {
      model: MODEL,
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 500 },
      actor: 'bench',
    });
    const decisions = await benchDecisions(db, entry);
    const propagation = await benchPropagation(db, entry);
    return [decisions, ...propagation];
  } finally {
    await db.drop();
  }
}
