import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrainActivities, type TrainedCandidate } from '../../../activities/retrain.js';
import { loadWeather, sha256OfDays, sliceDays } from '../../../examples/weather-model/data.js';
import { trainWeatherModel } from '../../../examples/weather-model/model.js';
import { createLocalArtifactStore } from '../../../src/artifacts/local-store.js';
import { createLogger } from '../../../src/log.js';
import { getVersion, registerVersion, setChampion } from '../../../src/registry/registry.js';
import { createRetrainJob } from '../../../src/retrain/job-request.js';
import type { TrainingConfigInput } from '../../../src/retrain/training-config.js';
import type { RetrainInput } from '../../../src/retrain/types.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { tsxCommand } from '../../support/commands.js';

const config = (features: string, env: Record<string, string> = {}): TrainingConfigInput => ({
  window: {
    trainFrom: '2012-01-01',
    trainTo: '2014-12-31',
    holdoutFrom: '2015-01-01',
    holdoutTo: '2015-12-31',
  },
  process: {
    command: tsxCommand(
      'examples/weather-model/train.ts',
      '--model',
      '{model}',
      '--version',
      '{version}',
      '--features',
      features,
      '--train-from',
      '{trainFrom}',
      '--train-to',
      '{trainTo}',
      '--holdout-from',
      '{holdoutFrom}',
      '--holdout-to',
      '{holdoutTo}',
      '--out',
      '{out}',
    ),
    env,
  },
  validate: {
    command: tsxCommand(
      'examples/weather-model/evaluate.ts',
      '--candidate',
      '{candidate}',
      '--champion',
      '{champion}',
      '--from',
      '{holdoutFrom}',
      '--to',
      '{holdoutTo}',
    ),
  },
});

/** Failing activities are what these tests are about; the SDK's warning for each would only be noise. */
const activityEnv = (): MockActivityEnvironment =>
  new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

/** The code of a non-retryable ApplicationFailure an activity threw. */
async function failureOf(p: Promise<unknown>): Promise<{ type: string; message: string }> {
  const err = await p.then(
    () => {
      throw new Error('expected the activity to fail');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  const f = err as ApplicationFailure;
  expect(f.nonRetryable).toBe(true);
  return { type: f.type ?? '', message: f.message };
}

describe('retraining activities (real Postgres, real child-process training, activity context from @temporalio/testing)', () => {
  let db: TestDatabase;
  let dir: string;
  let acts: ReturnType<typeof retrainActivities>;
  let store: ReturnType<typeof createLocalArtifactStore>;
  const { days } = loadWeather();
  const pathOf = (digest: string): string => join(dir, 'sha256', digest.slice(0, 2), digest);

  async function model(
    name: string,
    training: TrainingConfigInput,
    trigger: RetrainInput['trigger'] = 'manual',
  ): Promise<RetrainInput> {
    const champion = trainWeatherModel(days, {
      model: name,
      version: '1.0.0',
      featureSet: 'seasonal',
      trainFrom: '2012-01-01',
      trainTo: '2013-12-31',
      holdoutFrom: '2015-01-01',
      holdoutTo: '2015-12-31',
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
    return createRetrainJob(db.knex, {
      model: name,
      trigger,
      reason: 'test',
      requestedBy: 'tester',
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase('retrain_activities');
    dir = await mkdtemp(join(tmpdir(), 'arena-retrain-store-'));
    store = createLocalArtifactStore(dir);
    acts = retrainActivities({
      knex: db.knex,
      clock: () => new Date(),
      log: createLogger('silent'),
      rollupBucketMs: 1000,
      artifacts: store,
    });
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('a job that trains a better model', () => {
    let input: RetrainInput;
    let candidate: TrainedCandidate;
    const beats: unknown[] = [];

    beforeAll(async () => {
      input = await model('ra-better', config('seasonal+lags'));
      const env = activityEnv();
      env.on('heartbeat', (d: unknown) => beats.push(d));
      candidate = await env.run(acts.runTraining, input);
    });

    it('trains in a child process, heartbeats its progress and stores the artifact by digest', async () => {
      expect(candidate.version).toBe(`1.1.0+retrain.${input.jobId}`);
      expect(candidate.uri).toBe(`arena-artifact://sha256/${candidate.digest}`);
      expect(candidate.window).toEqual({
        trainFrom: '2012-01-01',
        trainTo: '2014-12-31',
        holdoutFrom: '2015-01-01',
        holdoutTo: '2015-12-31',
      });
      const artifact = JSON.parse(
        Buffer.from(await store.get(candidate.uri, candidate.digest)).toString('utf8'),
      ) as { version: string; featureSet: string; trainingDataSha256: string };
      expect(artifact).toMatchObject({ version: candidate.version, featureSet: 'seasonal+lags' });
      expect(artifact.trainingDataSha256).toBe(sha256OfDays(sliceDays(days, '2012-01-01', '2014-12-31')));
      expect(beats).toContainEqual(expect.objectContaining({ event: 'progress', step: 'fit' }));
      expect(beats).toContainEqual(expect.objectContaining({ event: 'done', digest: expect.any(String) }));
    });

    it('validates against the champion on the holdout, reproducibly', async () => {
      const v = await acts.validateCandidate({ input, candidate });
      expect(v.passed).toBe(true);
      expect(v.candidate.n).toBe(365);
      expect(v.champion.n).toBe(365);
      expect(v.improvement).toBeCloseTo(0.332, 2);
      expect(v.reason).toMatch(/MAE 2\.08\d vs champion 3\.11\d on the holdout: 33\.\d% better/);
      const again = await acts.validateCandidate({ input, candidate });
      expect(again.validationHash).toBe(v.validationHash);
    });

    it('refuses a candidate or a champion whose stored bytes were changed', async () => {
      const champion = await getVersion(db.knex, 'ra-better', '1.0.0');
      for (const digest of [candidate.digest, champion.artifactDigest!]) {
        const original = await readFile(pathOf(digest));
        const tampered = JSON.parse(original.toString('utf8')) as { coefficients: number[] };
        tampered.coefficients = tampered.coefficients.map((w) => w * 1.01);
        await writeFile(pathOf(digest), JSON.stringify(tampered));
        try {
          const f = await failureOf(acts.validateCandidate({ input, candidate }));
          expect(f.type).toBe('ArtifactRefused');
          expect(f.message).toContain(`does not match its registered digest: expected sha256 ${digest}`);
        } finally {
          await writeFile(pathOf(digest), original);
        }
      }
      expect((await acts.validateCandidate({ input, candidate })).passed).toBe(true);
    });

    it('registers the candidate once, with its lineage', async () => {
      const validation = await acts.validateCandidate({ input, candidate });
      const version = await acts.registerCandidate({ input, candidate, validation });
      expect(await acts.registerCandidate({ input, candidate, validation })).toBe(version);
      expect(await db.knex('model_versions').where({ model: 'ra-better' }).pluck('version')).toEqual([
        '1.0.0',
        version,
      ]);
      const v = await getVersion(db.knex, 'ra-better', version);
      expect(v).toMatchObject({
        status: 'candidate',
        parentVersion: '1.0.0',
        artifactUri: candidate.uri,
        artifactDigest: candidate.digest,
        training: {
          jobId: input.jobId,
          trigger: 'manual',
          window: candidate.window,
          dataSha256: sha256OfDays(sliceDays(days, '2012-01-01', '2014-12-31')),
          validationHash: validation.validationHash,
          holdout: { n: 365, mae: validation.candidate.mae },
        },
        metrics: { improvement: validation.improvement, validationHash: validation.validationHash },
      });
    });

    it('records each status once, and nothing after a final one', async () => {
      await acts.recordRetrainStatus({ input, status: 'running' });
      await acts.recordRetrainStatus({ input, status: 'running' });
      await acts.recordRetrainStatus({ input, status: 'failed', error: 'boom' });
      await acts.recordRetrainStatus({ input, status: 'completed' });
      const row = (await db.knex('retraining_jobs').where({ id: input.jobId }).first()) as {
        status: string;
        error: string;
        started_at: Date | null;
        finished_at: Date | null;
      };
      expect(row).toMatchObject({ status: 'failed', error: 'boom' });
      expect(row.started_at).toBeInstanceOf(Date);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(
        await db.knex('audit_log').where({ entity_id: input.jobId }).orderBy('id').pluck('action'),
      ).toEqual(['retrain.running', 'retrain.failed']);
    });
  });

  it('trains a job of a trigger that has its own window on that window, others on the default one', async () => {
    const recent = {
      trainFrom: '2014-01-01',
      trainTo: '2014-12-31',
      holdoutFrom: '2015-01-01',
      holdoutTo: '2015-12-31',
    };
    const training = { ...config('seasonal+lags'), windows: { drift: recent } };
    const drift = await model('ra-window-drift', training, 'drift');
    const manual = await model('ra-window-manual', training);
    const onDrift: TrainedCandidate = await activityEnv().run(acts.runTraining, drift);
    const onDefault: TrainedCandidate = await activityEnv().run(acts.runTraining, manual);
    expect(onDrift.window).toEqual(recent);
    expect(onDefault.window).toEqual(config('seasonal+lags').window);
    // The window reached the training command: the candidate's data digest is that of the year it was given.
    const digest = async (c: TrainedCandidate) =>
      (
        JSON.parse(new TextDecoder().decode(await store.get(c.uri, c.digest))) as {
          trainingDataSha256: string;
        }
      ).trainingDataSha256;
    expect(await digest(onDrift)).toBe(sha256OfDays(sliceDays(days, '2014-01-01', '2014-12-31')));
    expect(await digest(onDefault)).toBe(sha256OfDays(sliceDays(days, '2012-01-01', '2014-12-31')));
  });

  it('a training job that fails carries the tail of its stderr; one with an unknown placeholder is a configuration error', async () => {
    const failing = await model('ra-fails', config('seasonal+lags', { ARENA_EXAMPLE_TRAIN_FAULT: 'fail' }));
    const f = await failureOf(activityEnv().run(acts.runTraining, failing));
    expect(f.type).toBe('TrainingFailed');
    expect(f.message).toMatch(/training failed: .* exited with 1: .*injected training failure/s);

    const c = config('seasonal+lags');
    const typo = await model('ra-typo', {
      ...c,
      process: { ...c.process!, command: ['train', '--out', '{output}'] },
    });
    const t = await failureOf(activityEnv().run(acts.runTraining, typo));
    expect(t).toMatchObject({
      type: 'ConfigurationError',
      message: expect.stringContaining('unknown placeholder {output}'),
    });
  });

  it('cancelling the activity kills the training process', async () => {
    const input = await model('ra-cancel', config('seasonal+lags', { ARENA_EXAMPLE_TRAIN_FAULT: 'hang' }));
    const env = activityEnv();
    const seen: Array<Record<string, unknown>> = [];
    env.on('heartbeat', (d: Record<string, unknown>) => {
      seen.push(d);
      // The hang fault stops the trainer right after it loaded the data.
      if (d.step === 'load') setTimeout(() => env.cancel(), 300);
    });
    const started = Date.now();
    const err = await env.run(acts.runTraining, input).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - started).toBeLessThan(20_000);
    // The trainer's process is gone: nothing runs with this job's model name on its command line any more.
    const { execFileSync } = await import('node:child_process');
    const pids = (): string => {
      try {
        return execFileSync('pgrep', ['-f', 'model ra-cancel']).toString().trim();
      } catch {
        return '';
      }
    };
    for (let i = 0; i < 30 && pids(); i++) await new Promise((r) => setTimeout(r, 100));
    expect(pids()).toBe('');
    expect(seen.some((d) => d.step === 'load')).toBe(true);
  });
});
