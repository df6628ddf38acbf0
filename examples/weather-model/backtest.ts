/**
 * Walk-forward backtest of one artifact for Arena's backtest jobs: one JSON line per day of the window,
 * {"date","forecast","actual"}, each forecast made from the days before it only.
 *
 *   npx tsx examples/weather-model/backtest.ts --artifact model.json --from 2015-10-01 --to 2015-12-31 [--data FILE.csv]
 */
import { Command } from 'commander';
import { loadWeather } from './data.js';
import { forecast } from './model.js';
import { loadArtifact } from './predict.js';

async function main(): Promise<void> {
  const o = new Command('backtest')
    .requiredOption('--artifact <file>')
    .requiredOption('--from <date>')
    .requiredOption('--to <date>')
    .option('--data <csv>')
    .parse(process.argv)
    .opts<{ artifact: string; from: string; to: string; data?: string }>();
  const artifact = await loadArtifact(o.artifact);
  const { days } = loadWeather(o.data);
  days.forEach((d, i) => {
    if (d.date < o.from || d.date > o.to) return;
    const f = forecast(artifact, days, i);
    if (f !== null)
      process.stdout.write(`${JSON.stringify({ date: d.date, forecast: f, actual: d.tempMax })}\n`);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`backtest: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
