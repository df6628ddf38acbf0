import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainedCandidate } from '../../../activities/retrain.js';
import { localDay } from '../../../examples/flights-model/data.js';
import { trainFlightsModel } from '../../../examples/flights-model/model.js';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { createRetrainJob } from '../../../src/retrain/job-request.js';
import type { TrainingConfigInput } from '../../../src/retrain/training-config.js';
import type { RetrainInput } from '../../../src/retrain/types.js';
import type { TestDatabase } from '../../support/database.js';
import { createRetrainFixture, type RetrainFixture } from '../../support/retrain-fixture.js';
import { firstFlights, writeFlights } from '../../support/flights.js';
import { tsxCommand } from '../../support/commands.js';

/**
 * A classifier's retraining validated on a list of metrics: the flights example (a week of real flights),
 * trained and evaluated by its own commands in child processes, judged by accuracy and F1 with the seeds'
 * rule (5 % better, never below 85 %) and by a rule it can meet.
 */
describe('retraining a classifier, validated on several metrics (real Postgres, real commands)', () => {
  let fixture: RetrainFixture;
  let db: TestDatabase;
  let dir: string;
  let slice: string;
  let acts: RetrainFixture['acts'];
  let store: RetrainFixture['store'];
  const env = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  const config = (metrics: NonNullable<TrainingConfigInput['validate']['metrics']>): TrainingConfigInput => ({
    window: {
      trainFrom: '2001-01-01',
      trainTo: '2001-01-08',
      holdoutFrom: '2001-01-08',
      holdoutTo: '2001-01-09',
    },
    process: {
      command: tsxCommand(
        'examples/flights-model/train.ts',
        ...['--model', '{model}', '--version', '{version}', '--features', 'schedule+airports'],
        ...['--train-from', '{trainFrom}', '--train-to', '{trainTo}'],
        ...['--holdout-from', '{holdoutFrom}', '--holdout-to', '{holdoutTo}'],
        ...['--data', slice, '--out', '{out}'],
      ),
    },
    validate: {
      command: tsxCommand(
        'examples/flights-model/evaluate.ts',
        ...['--candidate', '{candidate}', '--champion', '{champion}'],
        ...['--from', '{holdoutFrom}', '--to', '{holdoutTo}', '--data', slice],
      ),
      metrics,
    },
  });

  async function job(
    name: string,
    training: TrainingConfigInput,
  ): Promise<{ input: RetrainInput; candidate: TrainedCandidate }> {
    const champion = await trainFlightsModel({
      model: name,
      version: '1.0.0',
      featureSet: 'schedule',
      trainFrom: localDay('2001-01-01'),
      trainTo: localDay('2001-01-08'),
      holdoutFrom: localDay('2001-01-08'),
      holdoutTo: localDay('2001-01-09'),
      path: slice,
    });
    const { uri, digest } = await store.put(JSON.stringify(champion));
    await registerVersion(db.knex, {
      model: name,
      version: '1.0.0',
      actor: 'setup',
      artifactUri: uri,
      artifactDigest: digest,
    });
    await setChampion(db.knex, { model: name, version: '1.0.0', actor: 'setup' });
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
    return { input, candidate: await env().run(acts.runTraining, input) };
  }

  beforeAll(async () => {
    fixture = await createRetrainFixture('classifier_validation');
    ({ db, dir, store, acts } = fixture);
    slice = join(dir, 'flights.parquet');
    writeFlights(slice, await firstFlights('2001-01-09'));
  }, 120_000);
  afterAll(async () => {
    await fixture?.drop();
  });

  it('fails the seeds’ rule (accuracy and F1 5 % better, never below 85 %) naming every figure that missed', async () => {
    const seeds = [
      { name: 'accuracy', direction: 'higher', minImprovement: 0.05, floor: 0.85 },
      { name: 'f1', direction: 'higher', minImprovement: 0.05, floor: 0.85 },
    ] as const;
    const { input, candidate } = await job('flights-seeds', config([...seeds]));
    const v = await acts.validateCandidate({ input, candidate });
    expect(v.passed).toBe(false);
    expect(v.checks.map((c) => c.metric)).toEqual(['accuracy', 'f1']);
    // Every figure that missed is named: accuracy's improvement and floor, and F1's floor.
    expect(v.reason).toMatch(
      /^below the floor: accuracy \d+\.\d% vs champion \d+\.\d%: \d+\.\d% (better|worse), needs ≥ 5\.0%; accuracy \d+\.\d% below the floor 85\.0%; .*F1 \d+\.\d% below the floor 85\.0%$/,
    );
    expect(v.candidate).toMatchObject({ n: expect.any(Number), logLoss: expect.any(Number) });
  }, 120_000);

  it('passes a rule the challenger meets: log loss better, F1 above the champion’s, accuracy above a floor', async () => {
    const { input, candidate } = await job(
      'flights-ok',
      config([
        { name: 'logLoss', direction: 'lower', minImprovement: 0.01 },
        { name: 'f1', direction: 'higher', minImprovement: 0.05 },
        { name: 'accuracy', direction: 'higher', floor: 0.7 },
      ]),
    );
    const v = await acts.validateCandidate({ input, candidate });
    expect(v.passed, v.reason).toBe(true);
    expect(v.checks.every((c) => c.passed)).toBe(true);
    const again = await acts.validateCandidate({ input, candidate });
    expect(again.validationHash).toBe(v.validationHash);
  }, 120_000);
});
