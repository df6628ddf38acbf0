/**
 * Validation for Arena's retraining: both artifacts forecast the same holdout window (walk-forward), and the
 * result is printed as one JSON object. Arena verified both artifacts' digests before calling this.
 *
 *   npx tsx examples/weather-model/evaluate.ts --candidate new.json --champion old.json \
 *     --from 2015-01-01 --to 2015-12-31 [--data FILE.csv]
 *
 * `forecastsSha256` covers every holdout row with both models' forecasts of it, so the validation hash Arena
 * records pins down exactly what was compared, not only the summary figures.
 */
import { createHash } from 'node:crypto';
import { Command } from 'commander';
import { canonicalRows, loadWeather, sha256OfDays, sliceDays } from './data.js';
import { evaluate, forecast } from './model.js';
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
  const candidateArtifact = await loadArtifact(o.candidate);
  const championArtifact = await loadArtifact(o.champion);
  const candidate = evaluate(candidateArtifact, days, o.from, o.to);
  const champion = evaluate(championArtifact, days, o.from, o.to);
  if (candidate.n === 0) throw new Error(`--from ${o.from} --to ${o.to}: no days to validate on`);
  const hash = createHash('sha256');
  days.forEach((d, i) => {
    if (d.date < o.from || d.date > o.to) return;
    const row = canonicalRows([d]).split('\n')[1]!;
    hash.update(
      `${row}\t${forecast(candidateArtifact, days, i) ?? ''}\t${forecast(championArtifact, days, i) ?? ''}\n`,
    );
  });
  process.stdout.write(
    `${JSON.stringify({
      candidate,
      champion,
      holdoutSha256: sha256OfDays(sliceDays(days, o.from, o.to)),
      forecastsSha256: hash.digest('hex'),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`evaluate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
