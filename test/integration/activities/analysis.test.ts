import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analysisActivities, type AnalyzeInput } from '../../../activities/analysis.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { createLogger } from '../../../src/log.js';
import { DEFAULT_POLICY } from '../../../src/policy/policy.js';
import { registerVersion } from '../../../src/registry/registry.js';
import type { AnalysisVerdict } from '../../../src/rollout/types.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('analyzeRollout (real Postgres, rollups written by the recorder)', () => {
  let db: TestDatabase;
  let acts: ReturnType<typeof analysisActivities>;
  const env = new MockActivityEnvironment();
  const from = new Date(Date.UTC(2026, 0, 1, 12, 0, 0));
  const to = new Date(from.getTime() + 60_000);

  beforeAll(async () => {
    db = await createTestDatabase('analysis_activity');
    acts = analysisActivities({
      knex: db.knex,
      clock: () => new Date(),
      log: createLogger('silent'),
      rollupBucketMs: 1000,
    });
    for (const version of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'm', version, actor: 't' });
    await db.knex('rollouts').insert({
      id: 'r1',
      model: 'm',
      champion: '1.0.0',
      challenger: '1.1.0',
      state: 'canary',
      policy: JSON.stringify(DEFAULT_POLICY),
      proposed_by: 't',
      workflow_id: 'wf-r1',
    });
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    const records = Array.from({ length: 400 }, (_, i) => ({
      requestId: `q${i}`,
      model: 'm',
      version: i % 2 ? '1.1.0' : '1.0.0',
      prediction: 10,
      latencyMs: 20 + (i % 7),
      error: i % 50 === 0,
      at: new Date(from.getTime() + i * 100).toISOString(),
    }));
    const outcome = await recorder.recordPredictions(records, { durable: true });
    expect(outcome.rejected).toEqual([]);
    await recorder.close();
  });
  afterAll(async () => db?.drop());

  const input = (seq: number): AnalyzeInput => ({
    tenantId: 'default',
    rolloutId: 'r1',
    seq,
    stageIndex: 0,
    mode: 'canary',
    model: 'm',
    champion: '1.0.0',
    challenger: '1.1.0',
    windows: [{ index: 0, from: from.toISOString(), to: to.toISOString(), mode: 'canary' }],
    policy: DEFAULT_POLICY,
  });

  it('reads both arms from rollups and stores the verdict once per (rollout, seq)', async () => {
    const first = (await env.run(acts.analyzeRollout, input(1))) as AnalysisVerdict;
    expect(first.samples).toEqual({ champion: 200, challenger: 200 });
    expect(first.seq).toBe(1);

    // A retry (the worker died after storing, before reporting) gets the stored verdict back, not a new
    // one computed later with a different timestamp.
    const retry = (await env.run(acts.analyzeRollout, input(1))) as AnalysisVerdict;
    expect(retry).toEqual(first);
    const rows = await db.knex('analyses').where({ rollout_id: 'r1', seq: 1 }).select('result');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.result).toEqual(first);

    const next = (await env.run(acts.analyzeRollout, input(2))) as AnalysisVerdict;
    expect(next.seq).toBe(2);
    expect(await db.knex('analyses').where({ rollout_id: 'r1' }).count({ n: '*' }).first()).toEqual({
      n: 2,
    });
  });
});
