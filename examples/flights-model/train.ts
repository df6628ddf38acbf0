/**
 * Trains the example flight-delay classifier. Same contract as the weather model's train.ts: a person runs
 * it, and so does Arena's retraining `process` backend, which reads the JSON lines on stdout (progress, then
 * the result) and the exit code.
 *
 *   npx tsx examples/flights-model/train.ts --model flights --version 1.1.0 --features schedule+airports \
 *     --train-from 2001-01-01 --train-to 2001-05-01 --holdout-from 2001-06-01 --holdout-to 2001-07-01 \
 *     --out model.json [--data FILE.parquet] [--store DIR] [--ridge 1] [--sample-every 1]
 *
 * Windows are days of the local calendar, [from, to).
 */
import { Command } from 'commander';
import { z } from 'zod';
import { dateFlag, validatedFlags } from '../cli-flags.js';
import { emit, runTrainCommand, writeTrainedArtifact } from '../training-output.js';
import { localDay } from './data.js';
import { FEATURE_SETS } from './features.js';
import { trainFlightsModel } from './model.js';

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
  sampleEvery: z.coerce
    .number()
    .int('--sample-every must be a whole number')
    .min(1, '--sample-every must be ≥ 1')
    .optional(),
});

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
    .option('--data <parquet>', 'flights Parquet file (default: vega-datasets flights-3m.parquet)')
    .option('--store <dir>', 'also put the artifact into this content-addressed store')
    .option('--ridge <lambda>')
    .option('--sample-every <k>', 'train on every k-th flight of the training window')
    .exitOverride();
  program.parse(process.argv);
  const o = validatedFlags(program, optionsSchema);
  emit({ event: 'progress', step: 'load', data: o.data ?? 'vega-datasets/data/flights-3m.parquet' });
  const artifact = await trainFlightsModel({
    model: o.model,
    version: o.version,
    featureSet: o.features,
    trainFrom: localDay(o.trainFrom),
    trainTo: localDay(o.trainTo),
    holdoutFrom: localDay(o.holdoutFrom),
    holdoutTo: localDay(o.holdoutTo),
    ...(o.ridge !== undefined ? { ridge: o.ridge } : {}),
    ...(o.sampleEvery !== undefined ? { sampleEvery: o.sampleEvery } : {}),
    ...(o.data !== undefined ? { path: o.data } : {}),
    onProgress: (step, detail) => emit({ event: 'progress', step, ...detail }),
  });
  const { calibration: _c, segments: _s, ...holdout } = artifact.holdout;
  await writeTrainedArtifact(o, artifact, holdout);
}

runTrainCommand(main);
