/**
 * Walk-forward backtest of one artifact for Arena's backtest jobs: one JSON line per flight of the window,
 * {"at","origin","destination","probability","delayed"}, each scored from the flights before it only.
 *
 *   npx tsx examples/flights-model/backtest.ts --artifact model.json --from 2001-06-01 --to 2001-06-02 [--data FILE.parquet]
 */
import { Command } from 'commander';
import { dayFlag } from './data.js';
import { loadFlightsArtifact, scoreFlights } from './scoring.js';

async function main(): Promise<void> {
  const o = new Command('backtest')
    .requiredOption('--artifact <file>')
    .requiredOption('--from <date>')
    .requiredOption('--to <date>')
    .option('--data <parquet>')
    .parse(process.argv)
    .opts<{ artifact: string; from: string; to: string; data?: string }>();
  const artifact = await loadFlightsArtifact(o.artifact);
  const window = {
    from: dayFlag('--from', o.from),
    to: dayFlag('--to', o.to),
    ...(o.data ? { path: o.data } : {}),
  };
  for await (const flights of scoreFlights([artifact], window))
    process.stdout.write(
      flights
        .map((f) =>
          JSON.stringify({
            at: new Date(f.time).toISOString().slice(0, 16),
            origin: f.origin,
            destination: f.destination,
            probability: f.p[0],
            delayed: f.delayed,
          }),
        )
        .join('\n') + '\n',
    );
}

main().catch((err: unknown) => {
  process.stderr.write(`backtest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
