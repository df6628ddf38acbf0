/**
 * Validation for Arena's retraining: both artifacts forecast the same holdout window (walk-forward), and the
 * result is printed as one JSON object. Arena verified both artifacts' digests before calling this.
 *
 *   npx tsx examples/weather-model/evaluate.ts --candidate new.json --champion old.json \
 *     --from 2015-01-01 --to 2015-12-31 [--data FILE.csv]
 */
import { Command } from 'commander';
import { loadWeather, sha256OfDays, sliceDays } from './data.js';
import { evaluate } from './model.js';
import { loadArtifact } from './predict.js';

async function main(): Promise<void> {
  const o = new Command('evaluate')
    .requiredOption('--candidate <file>')
    .requiredOption('--champion <file>')
    .requiredOption('--from <date>')
    .requiredOption('--to <date>')
    .option('--data <csv>')
    .parse(process.argv)
    .opts<{ candidate: string; champion: string; from: string; to: string; data?: string }>();
  const { days } = loadWeather(o.data);
  const candidate = evaluate(await loadArtifact(o.candidate), days, o.from, o.to);
  const champion = evaluate(await loadArtifact(o.champion), days, o.from, o.to);
  if (candidate.n === 0) throw new Error(`--from ${o.from} --to ${o.to}: no days to validate on`);
  process.stdout.write(
    `${JSON.stringify({ candidate, champion, holdoutSha256: sha256OfDays(sliceDays(days, o.from, o.to)) })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`evaluate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
