/**
 * Validation for Arena's retraining: both artifacts score the same holdout window, walking forward, and the
 * result is printed as one JSON object, {"candidate","champion","holdoutSha256","forecastsSha256"}, each
 * model's figures those of metrics.ts (accuracy, precision, recall, F1, log loss, calibration, segments).
 *
 *   npx tsx examples/flights-model/evaluate.ts --candidate new.json --champion old.json \
 *     --from 2001-06-01 --to 2001-07-01 [--data FILE.parquet]
 *
 * `forecastsSha256` covers every holdout flight with both models' probabilities, so the validation hash
 * Arena records pins down exactly what was compared.
 */
import { createHash } from 'node:crypto';
import { Command } from 'commander';
import { dayFlag } from './data.js';
import { classificationMetrics, type Scored } from './metrics.js';
import { loadFlightsArtifact, scoreFlights } from './scoring.js';

async function main(): Promise<void> {
  const o = new Command('evaluate')
    .requiredOption('--candidate <file>')
    .requiredOption('--champion <file>')
    .requiredOption('--from <date>')
    .requiredOption('--to <date>')
    .option('--data <parquet>')
    .parse(process.argv)
    .opts<{ candidate: string; champion: string; from: string; to: string; data?: string }>();
  const models = [await loadFlightsArtifact(o.candidate), await loadFlightsArtifact(o.champion)];
  const scored: [Scored[], Scored[]] = [[], []];
  const holdout = createHash('sha256');
  const forecasts = createHash('sha256');
  const window = {
    from: dayFlag('--from', o.from),
    to: dayFlag('--to', o.to),
    ...(o.data ? { path: o.data } : {}),
  };
  for await (const flights of scoreFlights(models, window))
    for (const f of flights) {
      const row = `${f.time},${f.delay},${f.distance},${f.origin},${f.destination}`;
      holdout.update(`${row}\n`);
      forecasts.update(`${row}\t${f.p[0]}\t${f.p[1]}\n`);
      scored[0].push({ p: f.p[0]!, y: f.delayed ? 1 : 0, segment: f.origin });
      scored[1].push({ p: f.p[1]!, y: f.delayed ? 1 : 0, segment: f.origin });
    }
  if (scored[0].length === 0) throw new Error(`--from ${o.from} --to ${o.to}: no flights to validate on`);
  const span = { from: o.from, to: o.to };
  process.stdout.write(
    `${JSON.stringify({
      candidate: classificationMetrics(scored[0], span),
      champion: classificationMetrics(scored[1], span),
      holdoutSha256: holdout.digest('hex'),
      forecastsSha256: forecasts.digest('hex'),
    })}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`evaluate: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
