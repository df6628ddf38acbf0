/**
 * Trains the example forecaster: a person runs it, and so does Arena's retraining `process` backend, which
 * reads the JSON lines on stdout (progress, then the result) and the exit code.
 *
 *   npx tsx examples/weather-model/train.ts --model weather --version 1.1.0 --features seasonal+lags \
 *     --train-from 2012-01-01 --train-to 2014-12-31 --holdout-from 2015-01-01 --holdout-to 2015-12-31 \
 *     --out model.json [--data FILE.csv] [--store DIR]
 *
 * Test hook: ARENA_EXAMPLE_TRAIN_FAULT=fail exits 1 after loading the data; =hang stops making progress
 * (so tests can exercise failed and hung training jobs with the real command).
 */
import { Command } from 'commander';
import { z } from 'zod';
import { dateFlag, validatedFlags } from '../cli-flags.js';
import { emit, runTrainCommand, writeTrainedArtifact } from '../training-output.js';
import { loadWeather } from './data.js';
import { FEATURE_SETS } from './features.js';
import { trainWeatherModel } from './model.js';

const optionsSchema = z.object({
  model: z.string().min(1, '--model is required'),
  version: z.string().min(1, '--version is required'),
  features: z.enum(FEATURE_SETS, { message: `--features must be one of ${FEATURE_SETS.join(', ')}` }),
  trainFrom: dateFlag('--train-from'),
  trainTo: dateFlag('--train-to'),
  holdoutFrom: dateFlag('--holdout-from'),
  holdoutTo: dateFlag('--holdout-to'),
  out: z.string().min(1, '--out is required'),
  data: z.string().optional(),
  store: z.string().optional(),
  ridge: z.coerce.number().nonnegative('--ridge must be ≥ 0').optional(),
});
const faultSchema = z.enum(['fail', 'hang']).optional();

/** The test hook, refused by name and value when misspelt rather than silently ignored. */
function injectedFault(): 'fail' | 'hang' | undefined {
  const raw = process.env.ARENA_EXAMPLE_TRAIN_FAULT;
  const parsed = faultSchema.safeParse(raw || undefined);
  if (!parsed.success)
    throw new Error(`ARENA_EXAMPLE_TRAIN_FAULT must be fail or hang (got ${JSON.stringify(raw)})`);
  return parsed.data;
}

async function main(): Promise<void> {
  const program = new Command('train')
    .requiredOption('--model <name>')
    .requiredOption('--version <version>')
    .requiredOption('--features <set>')
    .requiredOption('--train-from <date>')
    .requiredOption('--train-to <date>')
    .requiredOption('--holdout-from <date>')
    .requiredOption('--holdout-to <date>')
    .requiredOption('--out <file>')
    .option('--data <csv>', 'weather CSV (default: vega-datasets seattle-weather.csv)')
    .option('--store <dir>', 'also put the artifact into this content-addressed store')
    .option('--ridge <lambda>')
    .exitOverride();
  program.parse(process.argv);
  const o = validatedFlags(program, optionsSchema);
  const fault = injectedFault();

  emit({ event: 'progress', step: 'load', data: o.data ?? 'vega-datasets/data/seattle-weather.csv' });
  const { days, sha256 } = loadWeather(o.data);
  if (fault === 'fail') throw new Error('injected training failure (ARENA_EXAMPLE_TRAIN_FAULT=fail)');
  if (fault === 'hang') await new Promise(() => setInterval(() => undefined, 60_000));

  emit({ event: 'progress', step: 'fit', rows: days.length, dataFileSha256: sha256 });
  const artifact = trainWeatherModel(days, {
    model: o.model,
    version: o.version,
    featureSet: o.features,
    trainFrom: o.trainFrom,
    trainTo: o.trainTo,
    holdoutFrom: o.holdoutFrom,
    holdoutTo: o.holdoutTo,
    ...(o.ridge !== undefined ? { ridge: o.ridge } : {}),
  });
  emit({ event: 'progress', step: 'evaluate', holdout: artifact.holdout });

  await writeTrainedArtifact(o, artifact, artifact.holdout);
}

runTrainCommand(main);
