/**
 * Serves the example forecaster from its artifact:
 *   npx tsx examples/weather-model/predict.ts --artifact model.json --date 2015-06-01 [--data FILE.csv] [--digest SHA256]
 */
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { dateFlag, digestFlag, validatedFlags } from '../cli-flags.js';
import { readArtifactFile } from '../artifact-file.js';
import { loadWeather } from './data.js';
import { forecast, weatherModelArtifactSchema, type WeatherModelArtifact } from './model.js';

/** Reads and validates an artifact; with a digest, refuses bytes that do not hash to it. */
export function loadArtifact(path: string, expectedDigest?: string): Promise<WeatherModelArtifact> {
  return readArtifactFile(path, weatherModelArtifactSchema, expectedDigest);
}

const optionsSchema = z.object({
  artifact: z.string().min(1, '--artifact is required'),
  date: dateFlag('--date'),
  data: z.string().optional(),
  digest: digestFlag.optional(),
});

async function main(): Promise<void> {
  const program = new Command('predict')
    .requiredOption('--artifact <file>')
    .requiredOption('--date <date>')
    .option('--data <csv>')
    .option('--digest <sha256>')
    .parse(process.argv);
  const o = validatedFlags(program, optionsSchema);
  const artifact = await loadArtifact(o.artifact, o.digest);
  const { days } = loadWeather(o.data);
  const index = days.findIndex((d) => d.date === o.date);
  if (index < 0)
    throw new Error(
      `--date=${JSON.stringify(o.date)}: not in the data (${days[0]?.date}..${days.at(-1)?.date})`,
    );
  const value = forecast(artifact, days, index);
  if (value === null) throw new Error(`--date=${o.date}: not enough history before it to forecast`);
  process.stdout.write(
    `${JSON.stringify({ date: o.date, forecast: value, actual: days[index]!.tempMax })}\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  main().catch((err: unknown) => {
    process.stderr.write(`predict: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
