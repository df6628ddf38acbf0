import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/policy/policy.js';
import { registerVersion } from '../../../src/registry/registry.js';
import {
  createRetrainJob,
  requestRetrainJob,
  tryCreateRetrainJob,
} from '../../../src/retrain/job-request.js';
import type { TrainingConfigInput } from '../../../src/retrain/training-config.js';
import { UserFacingError } from '../../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const training: TrainingConfigInput = {
  process: { command: ['train', '--out', '{out}'] },
  validate: { command: ['evaluate', '{candidate}', '{champion}'] },
};

describe('creating a retraining job (real Postgres)', () => {
  let db: TestDatabase;
  const request = { model: 'rt', trigger: 'manual' as const, reason: 'test', requestedBy: 'ana' };

  beforeAll(async () => {
    db = await createTestDatabase('start_retrain');
    await registerVersion(db.knex, { model: 'rt', version: '1.0.0', actor: 't' });
    await db
      .knex('models')
      .where({ name: 'rt' })
      .update({ metadata: JSON.stringify({ training }) });
  });
  afterAll(async () => db?.drop());

  it('refuses a second job while one trains, and while one deploys its candidate through a rollout', async () => {
    const first = await createRetrainJob(db.knex, request);
    // The same job id again is a retried request, not a second job.
    expect((await createRetrainJob(db.knex, { ...request, jobId: first.jobId })).jobId).toBe(first.jobId);
    await expect(createRetrainJob(db.knex, request)).rejects.toThrow(
      `A retraining job of rt is already running (${first.jobId})`,
    );

    // Deploying: the candidate is registered and its rollout holds the model's one active rollout.
    await registerVersion(db.knex, { model: 'rt', version: '1.1.0', actor: 't' });
    await db
      .knex('retraining_jobs')
      .where({ id: first.jobId })
      .update({ status: 'deploying', candidate_version: '1.1.0' });
    await db.knex('rollouts').insert({
      id: 'ro-rt-1',
      model: 'rt',
      champion: '1.0.0',
      challenger: '1.1.0',
      state: 'awaiting_approval',
      policy: JSON.stringify(DEFAULT_POLICY),
      proposed_by: 'retrain',
      workflow_id: 'wf-ro-rt-1',
    });
    const refused = await createRetrainJob(db.knex, request).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UserFacingError);
    expect((refused as UserFacingError).message).toBe(
      `A retraining job of rt (${first.jobId}) is deploying candidate 1.1.0 through rollout ro-rt-1`,
    );
    expect((refused as UserFacingError).hint).toContain('arena rollout abort ro-rt-1');
    // Triggers (drift, schedules) get the reason to record instead of an error.
    const triggered = await tryCreateRetrainJob(db.knex, { ...request, trigger: 'drift' });
    expect(triggered).toEqual({ input: null, note: (refused as Error).message });
    expect(await db.knex('retraining_jobs').where({ model: 'rt' }).count({ n: '*' }).first()).toEqual({
      n: 1,
    });

    // Once the job is over, the model can be retrained again.
    await db.knex('retraining_jobs').where({ id: first.jobId }).update({ status: 'completed' });
    const next = await createRetrainJob(db.knex, request);
    expect(next.jobId).not.toBe(first.jobId);
  });

  it('returns why a model cannot be retrained instead of throwing it', async () => {
    const unknown = await requestRetrainJob(db.knex, { ...request, model: 'nobody' });
    expect(unknown.created).toBe(false);
    if (unknown.created) return;
    expect(unknown.refusal).toMatchObject({ name: 'UnknownModelError', code: 'unknown_model' });

    await registerVersion(db.knex, { model: 'bare', version: '1.0.0', actor: 't' });
    const bare = await requestRetrainJob(db.knex, { ...request, model: 'bare' });
    expect(bare.created ? null : bare.refusal.message).toBe('Model bare has no training configuration');
    const badTrigger = await requestRetrainJob(db.knex, { ...request, trigger: 'whim' as 'manual' });
    expect(badTrigger.created ? null : badTrigger.refusal.message).toMatch(
      /^--trigger="whim": must be one of/,
    );
    expect(await tryCreateRetrainJob(db.knex, { ...request, model: 'bare', trigger: 'drift' })).toEqual({
      input: null,
      note: 'Model bare has no training configuration',
    });
  });
});
