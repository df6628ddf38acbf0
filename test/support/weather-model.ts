import { resolve } from 'node:path';
import type { Knex } from 'knex';
import { loadWeather } from '../../examples/weather-model/data.js';
import {
  trainWeatherModel,
  weatherModelArtifactSchema,
  type WeatherModelArtifact,
} from '../../examples/weather-model/model.js';
import { createLocalArtifactStore } from '../../src/artifacts/local-store.js';
import type { PolicyInput } from '../../src/policy/policy.js';
import { getVersion, registerVersion, setChampion } from '../../src/registry/registry.js';
import { tsxCommand } from './commands.js';

/** The store the test workers use (createWorker's default, under the repository's .arena). */
export const testArtifactStore = createLocalArtifactStore(resolve('.arena/artifacts'));
export const weatherDays = loadWeather().days;

/** A rollout lifecycle of seconds for retrained candidates. */
export const FAST_RETRAIN_POLICY: PolicyInput = {
  approval: { required: true, timeout: '2m' },
  stages: [
    { mode: 'shadow', duration: '2s' },
    { mode: 'canary', weight: 50, duration: '3s' },
  ],
  analysis: { interval: '500ms', minSamples: 40, maxExtension: '4s', alpha: 0.05, tuningN: 500 },
  primaryMetric: {
    name: 'abs_error',
    direction: 'lower',
    minImprovement: 0.02,
    rollbackRelativeDegradation: 0.05,
  },
  guardrails: [{ metric: 'error', max: 0.05, rollbackAbove: 0.15 }],
  onInconclusive: 'rollback',
  watch: { duration: '1s', rollbackOnRelativeDegradation: 0.5 },
};

/**
 * A model whose champion is the seasonal forecaster trained on 2012–2013 (artifact in the test store), and
 * whose retraining trains the seasonal+lags forecaster on 2012–2014 with the real train command, validated
 * on 2015 against the champion.
 */
export async function setUpWeatherModel(
  knex: Knex,
  model: string,
  opts: { monitoring?: unknown; policy?: PolicyInput } = {},
): Promise<WeatherModelArtifact> {
  const champion = trainWeatherModel(weatherDays, {
    model,
    version: '1.0.0',
    featureSet: 'seasonal',
    trainFrom: '2012-01-01',
    trainTo: '2013-12-31',
    holdoutFrom: '2015-01-01',
    holdoutTo: '2015-12-31',
  });
  const { uri, digest } = await testArtifactStore.put(JSON.stringify(champion));
  await registerVersion(knex, {
    model,
    version: '1.0.0',
    actor: 'setup',
    artifactUri: uri,
    artifactDigest: digest,
    metrics: { holdout: champion.holdout },
  });
  await setChampion(knex, { model, version: '1.0.0', actor: 'setup' });
  await knex('models')
    .where({ name: model })
    .update({
      metadata: JSON.stringify({
        ...(opts.monitoring ? { monitoring: opts.monitoring } : {}),
        training: {
          process: {
            command: tsxCommand(
              'examples/weather-model/train.ts',
              '--model',
              '{model}',
              '--version',
              '{version}',
              '--features',
              'seasonal+lags',
              '--train-from',
              '2012-01-01',
              '--train-to',
              '2014-12-31',
              '--holdout-from',
              '2015-01-01',
              '--holdout-to',
              '2015-12-31',
              '--out',
              '{out}',
            ),
          },
          validate: {
            command: tsxCommand(
              'examples/weather-model/evaluate.ts',
              '--candidate',
              '{candidate}',
              '--champion',
              '{champion}',
              '--from',
              '2015-01-01',
              '--to',
              '2015-12-31',
            ),
          },
          rollout: { policy: opts.policy ?? FAST_RETRAIN_POLICY, autoApprove: true },
        },
      }),
    });
  return champion;
}

/** A registered version's artifact, read back from the store with its digest verified. */
export async function artifactOf(knex: Knex, model: string, version: string): Promise<WeatherModelArtifact> {
  const v = await getVersion(knex, model, version);
  const bytes = await testArtifactStore.get(v.artifactUri!, v.artifactDigest!);
  return weatherModelArtifactSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
}

/** Polls until `check` returns a value (not undefined/false), or fails naming what it waited for. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false | null>,
  ms = 60_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
