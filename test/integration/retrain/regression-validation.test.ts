import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainWeatherModel } from '../../../examples/weather-model/model.js';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { createRetrainJob } from '../../../src/retrain/job-request.js';
import type { TrainingConfigInput } from '../../../src/retrain/training-config.js';
import type { TrainedCandidate } from '../../../src/retrain/training-run.js';
import type { TestDatabase } from '../../support/database.js';
import { createRetrainFixture, type RetrainFixture } from '../../support/retrain-fixture.js';
import { tsxCommand } from '../../support/commands.js';
import { weatherDays } from '../../support/weather-model.js';

/** The arena seed's rule for a regression model: MAE and MAPE both at least 5 % better, coverage not worse. */
const ARENA_SEED_RULE = [
  { name: 'mae', direction: 'lower', minImprovement: 0.05 },
  { name: 'mape', direction: 'lower', minImprovement: 0.05 },
  { name: 'coverage', direction: 'higher', minImprovement: 0 },
] as const;

/**
 * A forecaster's retraining validated on the arena seed's rule: the weather example trained and evaluated
 * by its own commands in child processes, each model's 80 % interval (from its training residuals) checked
 * for coverage on the 2015 holdout beside its MAE and MAPE.
 */
describe('retraining a forecaster, validated on MAE, MAPE and interval coverage (real Postgres, real commands)', () => {
  let fixture: RetrainFixture;
  let db: TestDatabase;
  let acts: RetrainFixture['acts'];
  let store: RetrainFixture['store'];
  const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  /** A model whose champion is `champion`, retrained as seasonal+lags on 2012 to `candidateTo`. */
  async function validate(
    name: string,
    champion: { featureSet: 'seasonal' | 'seasonal+lags'; trainTo: string },
    candidateTo: string,
  ) {
    const artifact = trainWeatherModel(weatherDays, {
      model: name,
      version: '1.0.0',
      featureSet: champion.featureSet,
      trainFrom: '2012-01-01',
      trainTo: champion.trainTo,
      holdoutFrom: '2015-01-01',
      holdoutTo: '2015-12-31',
    });
    const { uri, digest } = await store.put(JSON.stringify(artifact));
    await registerVersion(db.knex, {
      model: name,
      version: '1.0.0',
      actor: 'setup',
      artifactUri: uri,
      artifactDigest: digest,
    });
    await setChampion(db.knex, { model: name, version: '1.0.0', actor: 'setup' });
    const training: TrainingConfigInput = {
      window: {
        trainFrom: '2012-01-01',
        trainTo: candidateTo,
        holdoutFrom: '2015-01-01',
        holdoutTo: '2015-12-31',
      },
      process: {
        command: tsxCommand(
          'examples/weather-model/train.ts',
          ...['--model', '{model}', '--version', '{version}', '--features', 'seasonal+lags'],
          ...['--train-from', '{trainFrom}', '--train-to', '{trainTo}'],
          ...['--holdout-from', '{holdoutFrom}', '--holdout-to', '{holdoutTo}', '--out', '{out}'],
        ),
      },
      validate: {
        command: tsxCommand(
          'examples/weather-model/evaluate.ts',
          ...['--candidate', '{candidate}', '--champion', '{champion}'],
          ...['--from', '{holdoutFrom}', '--to', '{holdoutTo}'],
        ),
        metrics: [...ARENA_SEED_RULE],
      },
    };
    await db
      .knex('models')
      .where({ name })
      .update({ metadata: JSON.stringify({ training }) });
    const input = await createRetrainJob(db.knex, {
      model: name,
      trigger: 'manual',
      reason: 'test',
      requestedBy: 'tester',
    });
    const candidate: TrainedCandidate = await env().run(acts.runTraining, input);
    return acts.validateCandidate({ input, candidate });
  }

  beforeAll(async () => {
    fixture = await createRetrainFixture('regression_validation');
    ({ db, store, acts } = fixture);
  }, 120_000);
  afterAll(async () => {
    await fixture?.drop();
  });

  it('passes a candidate with yesterday’s weather against the seasonal champion: MAE and MAPE far better, coverage not worse', async () => {
    const v = await validate(
      'weather-better',
      { featureSet: 'seasonal', trainTo: '2013-12-31' },
      '2014-12-31',
    );
    expect(v.passed, v.reason).toBe(true);
    expect(v.checks.map((c) => [c.metric, c.passed])).toEqual([
      ['mae', true],
      ['mape', true],
      ['coverage', true],
    ]);
    const coverage = v.checks[2]!;
    expect(coverage.candidate).toBeCloseTo(0.8, 2);
    expect(coverage.champion).toBeCloseTo(0.764, 2);
  }, 120_000);

  it('fails a candidate on less data than the champion, naming MAE, MAPE and coverage', async () => {
    const v = await validate(
      'weather-worse',
      { featureSet: 'seasonal+lags', trainTo: '2014-12-31' },
      '2013-12-31',
    );
    expect(v.passed).toBe(false);
    expect(v.checks.map((c) => [c.metric, c.passed])).toEqual([
      ['mae', false],
      ['mape', false],
      ['coverage', false],
    ]);
    expect(v.reason).toMatch(/MAE .*; MAPE .*; coverage .*/);
    expect(v.validationHash).toMatch(/^[0-9a-f]{64}$/);
  }, 120_000);
});
