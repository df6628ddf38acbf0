import { readFile, writeFile } from 'node:fs/promises';
import type { BenchResult } from './result.js';

/**
 * `npm run bench`: runs every benchmark family and writes bench/results.json (DESIGN.md §8). Each family
 * measures its baseline in the same run on the same machine. `npm run bench -- routing stats` runs a subset.
 */
type Family = () => Promise<BenchResult[]>;

const families: Record<string, () => Promise<Family>> = {
  routing: async () => (await import('./routing.js')).runRoutingBench,
  ingest: async () => (await import('./ingest.js')).runIngestBench,
  'bad-record': async () => (await import('./bad-record.js')).runBadRecordBench,
  stats: async () => (await import('./stats-simulation.js')).runStatsBench,
  'aa-panel': async () => (await import('./aa-panel.js')).runAaPanelBench,
  rollouts: async () => (await import('./rollouts.js')).runRolloutBench,
  clients: async () => (await import('./clients.js')).runClientsBench,
  prometheus: async () => (await import('./prometheus.js')).runPrometheusBench,
  segments: async () => (await import('./segments.js')).runSegmentsBench,
  'flights-ingest': async () => (await import('./flights-ingest.js')).runFlightsIngestBench,
  storage: async () => (await import('./storage.js')).runStorageBench,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((name) => !(name in families));
if (unknown.length) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(families).join(', ')}\n`,
  );
  process.exit(2);
}

const results: BenchResult[] = [];
for (const [name, load] of Object.entries(families)) {
  if (wanted.length && !wanted.includes(name)) continue;
  process.stderr.write(`… bench ${name}\n`);
  const started = Date.now();
  const rows = await (await load())();
  for (const row of rows) {
    process.stderr.write(
      `  ${row.name} = ${row.value} ${row.unit} (baseline ${row.baseline}: ${row.baseline_value}, ratio ${row.ratio.toFixed(3)})\n`,
    );
  }
  process.stderr.write(`✔ bench ${name} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
  results.push(...rows);
}

// A partial run (`npm run bench -- ingest`) replaces its own rows and keeps the others' latest figures.
const out = new URL('./results.json', import.meta.url);
const previous = JSON.parse(await readFile(out, 'utf8').catch(() => '[]')) as BenchResult[];
const fresh = new Set(results.map((r) => r.name));
await writeFile(
  out,
  `${JSON.stringify([...previous.filter((r) => !fresh.has(r.name)), ...results], null, 2)}\n`,
);
process.stderr.write(`wrote ${out.pathname}\n`);
