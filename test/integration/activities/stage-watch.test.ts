import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analysisActivities } from '../../../activities/analysis.js';
import type { WatchInput, WatchResult } from '../../../activities/stage-watch.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { createLogger } from '../../../src/log.js';
import { DEFAULT_POLICY, parsePolicy } from '../../../src/policy/policy.js';
import { registerVersion } from '../../../src/registry/registry.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * The stage watch loops through a stage's analysis intervals inside one activity: these runs use real
 * rollups in a real Postgres, with intervals of tens of milliseconds.
 */
describe('watchStage (real Postgres, rollups written by the recorder)', () => {
  let db: TestDatabase;
  let acts: ReturnType<typeof analysisActivities>;
  // Whole rollup buckets (1 s): analysis windows count only buckets that lie inside them.
  const from = new Date(Math.floor(Date.now() / 1000) * 1000 - 120_000);

  beforeAll(async () => {
    db = await createTestDatabase('stage_watch');
    acts = analysisActivities({
      knex: db.knex,
      clock: () => new Date(),
      log: createLogger('silent'),
      rollupBucketMs: 1000,
    });
    for (const model of ['healthy', 'failing']) {
      for (const version of ['1.0.0', '1.1.0'])
        await registerVersion(db.knex, { model, version, actor: 't' });
      for (const id of [1, 2, 3, 4, 5, 6, 7].map((k) => `${model}-${k}`))
        await db.knex('rollouts').insert({
          id,
          model,
          champion: '1.0.0',
          challenger: '1.1.0',
          state: 'canary',
          policy: JSON.stringify(DEFAULT_POLICY),
          proposed_by: 't',
          workflow_id: `wf-${id}`,
        });
    }
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    for (const model of ['healthy', 'failing']) {
      const records = Array.from({ length: 2000 }, (_, i) => {
        const challenger = i % 2 === 1;
        return {
          requestId: `${model}-q${i}`,
          model,
          version: challenger ? '1.1.0' : '1.0.0',
          prediction: 10,
          latencyMs: 20 + (i % 7),
          // The failing model's challenger errs on every request.
          error: model === 'failing' && challenger,
          at: new Date(from.getTime() + i * 30).toISOString(),
        };
      });
      const outcome = await recorder.recordPredictions(records, { durable: true });
      expect(outcome.rejected).toEqual([]);
    }
    await recorder.close();
  });
  afterAll(async () => db?.drop());

  const policy = parsePolicy({
    stages: [{ mode: 'canary', weight: 50, duration: '1h' }],
    analysis: { interval: '1s', minSamples: 100 },
    guardrails: [{ metric: 'error', max: 0.001, rollbackAbove: 0.01 }],
  });
  const input = (rolloutId: string, over: Partial<WatchInput> = {}): WatchInput => ({
    tenantId: 'default',
    rolloutId,
    stageIndex: 0,
    mode: 'canary',
    model: rolloutId.split('-')[0]!,
    champion: '1.0.0',
    challenger: '1.1.0',
    windows: [{ index: 0, from: from.toISOString(), to: null, mode: 'canary' }],
    policy,
    firstSeq: 1,
    maxAnalyses: 4,
    intervalMs: 30,
    deadline: Date.now() + 3_600_000,
    lastDecision: null,
    ...over,
  });
  /** One run of the watch, in a fresh activity context unless one is given (heartbeats, cancellation). */
  const watch = async (watchInput: WatchInput, env = new MockActivityEnvironment()): Promise<WatchResult> =>
    (await env.run(acts.watchStage, watchInput)) as WatchResult;
  const seqs = async (rolloutId: string): Promise<number[]> =>
    (await db.knex('analyses').where({ rollout_id: rolloutId }).orderBy('seq').select('seq')).map(
      (r: { seq: number }) => r.seq,
    );

  it('hands back the first verdict whose decision the workflow has not seen', async () => {
    const out = await watch(input('healthy-1'));
    expect(out.reason).toBe('changed');
    expect(out.verdict.seq).toBe(1);
    expect(out.verdict.samples).toEqual({ champion: 1000, challenger: 1000 });
    expect(await seqs('healthy-1')).toEqual([1]);
  });

  it('keeps analyzing while nothing changes, and hands back after its batch with every seq stored', async () => {
    const first = await watch(input('healthy-2'));
    const heartbeats: unknown[] = [];
    const env = new MockActivityEnvironment();
    env.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const out = await watch(input('healthy-2', { firstSeq: 2, lastDecision: first.verdict.decision }), env);
    expect(out.reason).toBe('batch');
    expect(out.verdict.seq).toBe(5);
    expect(await seqs('healthy-2')).toEqual([1, 2, 3, 4, 5]);
    // The progress a retry resumes from is heartbeated after each analysis.
    expect(heartbeats).toContainEqual(
      expect.objectContaining({
        lastSeq: 5,
        latest: expect.objectContaining({
          seq: 5,
          decision: out.verdict.decision,
          samples: out.verdict.samples,
        }),
      }),
    );
  });

  it('hands a failing guardrail back at once', async () => {
    const out = await watch(input('failing-1', { lastDecision: 'fail' }));
    expect(out.reason).toBe('act');
    expect(out.verdict.decision).toBe('fail');
    expect(out.verdict.summary).toMatch(/error/);
    expect(await seqs('failing-1')).toEqual([1]);
  });

  it('hands back the analysis made at the stage deadline', async () => {
    const first = await watch(input('healthy-3'));
    const deadline = Date.now() + 100;
    const out = await watch(
      input('healthy-3', { firstSeq: 2, maxAnalyses: 1000, lastDecision: first.verdict.decision, deadline }),
    );
    // Handed back once an analysis finishes at or after the deadline, so the stage's last verdict covers
    // data up to within one interval of its end, and not before.
    expect(out.reason).toBe('deadline');
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    expect(Date.parse(out.verdict.at)).toBeGreaterThanOrEqual(deadline - 30);
    expect(out.verdict.seq).toBeLessThan(1000);
  });

  it('resumes after the last heartbeated seq when retried', async () => {
    const first = await watch(input('healthy-4'));
    // A previous attempt got as far as seq 3 (stored seq 1 here; 2 and 3 stand for its lost work).
    const retry = new MockActivityEnvironment({ heartbeatDetails: { lastSeq: 3 }, attempt: 2 });
    const out = await watch(
      input('healthy-4', { firstSeq: 2, maxAnalyses: 4, lastDecision: first.verdict.decision }),
      retry,
    );
    expect(out.reason).toBe('batch');
    expect(await seqs('healthy-4')).toEqual([1, 4, 5]);

    // An attempt that got through its whole block (seqs 2–5) before dying hands back the stored last
    // verdict and never writes past the block.
    const stored = await db.knex('analyses').where({ rollout_id: 'healthy-4', seq: 5 }).first('result');
    const done = await watch(
      input('healthy-4', { firstSeq: 2, maxAnalyses: 4, lastDecision: first.verdict.decision }),
      new MockActivityEnvironment({ heartbeatDetails: { lastSeq: 5 }, attempt: 3 }),
    );
    expect(done.verdict).toEqual(stored!.result);
    expect(await seqs('healthy-4')).toEqual([1, 4, 5]);
  });

  it('counts analyses in a row whose metric source failed, and hands back at consecutiveErrorLimit', async () => {
    // A Prometheus that does not answer: every analysis waits on the guardrail and names the source error.
    const down = parsePolicy({
      stages: [{ mode: 'canary', weight: 50, duration: '1h' }],
      analysis: { interval: '1s', minSamples: 100, consecutiveErrorLimit: 3 },
      metricSources: { prom: { type: 'prometheus', address: 'http://127.0.0.1:1' } },
      guardrails: [{ metric: 'svc_errors', source: 'prom', events: 'sum(e)', total: 'sum(t)', max: 0.01 }],
    });
    const out = await watch(input('healthy-6', { policy: down, maxAnalyses: 10, lastDecision: 'waiting' }));
    expect(out).toMatchObject({ reason: 'act', sourceErrorStreak: 3 });
    expect(out.verdict.decision).toBe('waiting');
    expect(out.verdict.sourceErrors?.[0]).toMatch(
      /^svc_errors: no data from Prometheus \(prom\).*did not answer/,
    );
    expect(await seqs('healthy-6')).toEqual([1, 2, 3]);
    // The streak the workflow carries goes on across watches; a retry counts the analysis it resumes on once.
    const next = await watch(
      input('healthy-6', {
        policy: down,
        firstSeq: 4,
        maxAnalyses: 10,
        lastDecision: 'waiting',
        sourceErrorStreak: 2,
      }),
    );
    expect(next).toMatchObject({ reason: 'act', sourceErrorStreak: 3 });
    expect(next.verdict.seq).toBe(4);
    const retried = await watch(
      input('healthy-6', { policy: down, firstSeq: 5, maxAnalyses: 2, lastDecision: 'waiting' }),
      new MockActivityEnvironment({ heartbeatDetails: { lastSeq: 6, sourceErrorStreak: 1 }, attempt: 2 }),
    );
    expect(retried.verdict.seq).toBe(6);
    expect(retried.sourceErrorStreak).toBe(1);
    // A source that answers ends the streak.
    const up = await watch(
      input('healthy-7', { maxAnalyses: 2, lastDecision: 'pass', sourceErrorStreak: 2 }),
    );
    expect(up.sourceErrorStreak).toBe(0);
  });

  it('stops when cancelled, between analyses', async () => {
    const first = await watch(input('healthy-5'));
    const env = new MockActivityEnvironment();
    const running = watch(
      input('healthy-5', {
        firstSeq: 2,
        maxAnalyses: 10_000,
        intervalMs: 50,
        lastDecision: first.verdict.decision,
      }),
      env,
    );
    await new Promise((r) => setTimeout(r, 400));
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    const stored = await seqs('healthy-5');
    expect(stored.length).toBeGreaterThan(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(await seqs('healthy-5')).toEqual(stored);
  });
});
