import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getRetrainJob,
  insertRetrainJobUnlessBusy,
  listRetrainJobs,
  lockRetrainJobStatus,
  retrainJobsOfModelBetween,
  updateRetrainJobStatus,
  type NewRetrainJob,
} from '../../../src/retrain/job-store.js';
import { recordRetrainStatus } from '../../../src/retrain/job-status.js';
import type { RetrainInput } from '../../../src/retrain/types.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const job = (id: string, model = 'm'): NewRetrainJob => ({
  id,
  tenantId: 'default',
  model,
  trigger: 'manual',
  backend: 'process',
  params: { reason: 'test', requestedBy: 'ana', evidence: null },
  workflowId: `retrain-default-${model}-${id}`,
});

describe('retraining job store (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('retrain_job_store');
  });
  afterAll(async () => db?.drop());

  it('inserts a pending job, finds a repeated id, and refuses a second active job of the model', async () => {
    expect(await insertRetrainJobUnlessBusy(db.knex, job('j1'))).toEqual({ outcome: 'inserted' });
    expect(await insertRetrainJobUnlessBusy(db.knex, job('j1'))).toEqual({ outcome: 'exists' });
    expect(await insertRetrainJobUnlessBusy(db.knex, job('j2'))).toEqual({
      outcome: 'busy',
      active: { id: 'j1', status: 'pending', candidate_version: null },
    });
    // Concurrent requests for one model: the advisory lock lets exactly one insert.
    const raced = await Promise.all(
      ['a', 'b', 'c'].map((id) => insertRetrainJobUnlessBusy(db.knex, job(id, 'n'))),
    );
    expect(raced.filter((r) => r.outcome === 'inserted')).toHaveLength(1);
    expect(await getRetrainJob(db.knex, 'j1')).toMatchObject({
      id: 'j1',
      tenant_id: 'default',
      model: 'm',
      trigger: 'manual',
      status: 'pending',
      backend: 'process',
      params: { reason: 'test', requestedBy: 'ana', evidence: null },
      metrics: null,
      workflow_id: 'retrain-default-m-j1',
      started_at: null,
      finished_at: null,
    });
    expect(await getRetrainJob(db.knex, 'nope')).toBeUndefined();
  });

  it('sets statuses with their timestamps; a final status ends the job for good', async () => {
    await db.knex.transaction(async (trx) => {
      expect(await lockRetrainJobStatus(trx, 'j1')).toBe('pending');
      await updateRetrainJobStatus(trx, 'j1', { status: 'running' });
    });
    expect((await getRetrainJob(db.knex, 'j1'))?.started_at).toBeInstanceOf(Date);
    const input: RetrainInput = {
      jobId: 'j1',
      tenantId: 'default',
      model: 'm',
      trigger: 'manual',
      reason: 'test',
      requestedBy: 'ana',
    };
    expect(await recordRetrainStatus(db.knex, { input, status: 'failed', error: 'boom' })).toBe('recorded');
    expect(await recordRetrainStatus(db.knex, { input, status: 'completed' })).toBe('unchanged');
    expect(
      await recordRetrainStatus(db.knex, { input: { ...input, jobId: 'nope' }, status: 'running' }),
    ).toBe('unknown_job');
    const row = await getRetrainJob(db.knex, 'j1');
    expect(row).toMatchObject({ status: 'failed', error: 'boom' });
    expect(row?.finished_at).toBeInstanceOf(Date);
    expect(
      await db.knex('audit_log').where({ entity_type: 'retraining_job', entity_id: 'j1' }).pluck('action'),
    ).toEqual(['retrain.failed']);
    // The model may be retrained again now.
    expect(await insertRetrainJobUnlessBusy(db.knex, job('j2'))).toEqual({ outcome: 'inserted' });
  });

  it('lists jobs newest first, by model, and by creation time', async () => {
    await db
      .knex('retraining_jobs')
      .where({ id: 'j1' })
      .update({ created_at: new Date('2026-01-01T00:00:00Z') });
    await db
      .knex('retraining_jobs')
      .where({ id: 'j2' })
      .update({ created_at: new Date('2026-01-03T00:00:00Z') });
    expect((await listRetrainJobs(db.knex, { model: 'm', limit: 10 })).map((j) => j.id)).toEqual([
      'j2',
      'j1',
    ]);
    expect((await listRetrainJobs(db.knex, { model: 'm', limit: 1 })).map((j) => j.id)).toEqual(['j2']);
    expect(await listRetrainJobs(db.knex, { limit: 10 })).toHaveLength(3);
    const between = await retrainJobsOfModelBetween(
      db.knex,
      'default',
      'm',
      new Date('2025-12-31T00:00:00Z'),
      new Date('2026-01-02T00:00:00Z'),
    );
    expect(between.map((j) => j.id)).toEqual(['j1']);
  });
});
