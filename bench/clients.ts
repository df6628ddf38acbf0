import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildGateway } from '../src/gateway/server.js';
import { TokenStore } from '../src/gateway/tokens.js';
import { registerVersion, setChampion } from '../src/registry/registry.js';
import { changeRouting } from '../src/routing/store.js';
import { decide, keyPrefix, type RoutingEntry } from '../src/routing/table.js';
import { createBenchDatabase } from './bench-database.js';
import { benchResult, type BenchResult } from './result.js';

/**
 * The clients' routing (issue 18):
 *
 * - python_route_decisions_per_s: the Python client's local decision (clients/python, hashlib) over N ids
 *   from a loaded entry. Baseline, same entry and ids, same run: the TypeScript decision (src/routing).
 * - python_router_round_trips: round trips to the gateway of a Python Router making DECISIONS decisions
 *   over SPREAD_S seconds while revalidating its cached entry every second (304 while unchanged). Baseline:
 *   the DECISIONS round trips of asking POST /v1/route for each decision.
 */
const N = Number(process.env.BENCH_CLIENT_IDS ?? 200_000);
const DECISIONS = 100_000;
const SPREAD_S = 5;
const TOKEN = 'bench-clients-token-0123456789';
const root = fileURLToPath(new URL('../', import.meta.url));

const python = (args: string[]): Promise<Record<string, number>> =>
  new Promise((resolve, reject) => {
    execFile(
      'python3',
      ['clients/python/bench_router.py', ...args],
      { cwd: root, timeout: 300_000 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`bench_router.py: ${stderr || err.message}`))
          : resolve(JSON.parse(stdout.trim()) as Record<string, number>),
    );
  });

function typescriptRate(entry: RoutingEntry, ids: string[]): number {
  const prefix = keyPrefix(entry);
  let best = 0;
  for (let run = 0; run < 3; run++) {
    let toChallenger = 0;
    const t0 = performance.now();
    for (let i = 0; i < ids.length; i++)
      if (decide(entry, ids[i]!, {}, prefix).serve === '1.1.0') toChallenger++;
    if (toChallenger === 0 || toChallenger === ids.length) throw new Error('degenerate split in the bench');
    best = Math.max(best, ids.length / ((performance.now() - t0) / 1000));
  }
  return best;
}

export async function runClientsBench(): Promise<BenchResult[]> {
  // The same entry as bench_router.py's.
  const entry: RoutingEntry = {
    tenantId: 'default',
    model: 'bench-routing',
    champion: '1.0.0',
    challenger: '1.1.0',
    mode: 'canary',
    weightBp: 500,
    shadow: [],
    segmentOverrides: [],
    salt: 'bench',
    generation: 1,
  };
  const ids = Array.from({ length: N }, (_, i) => `req-${i}`);
  const ts = typescriptRate(entry, ids);
  const py = (await python(['local', String(N)])).value!;

  const db = await createBenchDatabase('clients');
  try {
    for (const version of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'bench-clients', version, actor: 'bench' });
    await setChampion(db.knex, { model: 'bench-clients', version: '1.0.0', actor: 'bench' });
    await changeRouting(db.knex, {
      model: 'bench-clients',
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 500 },
      actor: 'bench',
    });
    const app = await buildGateway({
      databaseUrl: db.url,
      tokens: new TokenStore([{ token: TOKEN, name: 'bench', tenant: 'default', roles: ['ingest'] }]),
      people: { knex: db.knex },
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const trips = await python([
        'gateway',
        url,
        TOKEN,
        'bench-clients',
        String(DECISIONS),
        String(SPREAD_S),
      ]);
      return [
        benchResult(
          'python_route_decisions_per_s',
          py,
          'decisions/s',
          'TypeScript decide() on the same entry and ids, same run',
          ts,
          `${N} ids, best of 3 runs each; hashlib vs the allocation-free TypeScript SHA-256`,
        ),
        benchResult(
          'python_router_round_trips',
          trips.value!,
          'round trips',
          `POST /v1/route per decision (${DECISIONS} round trips)`,
          DECISIONS,
          `${DECISIONS} decisions over ${SPREAD_S}s, revalidating every 1 s: ${trips.not_modified} of the trips were 304 Not Modified, ${trips.errors} errors`,
        ),
      ];
    } finally {
      await app.close();
    }
  } finally {
    await db.drop();
  }
}
