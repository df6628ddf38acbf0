import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArenaClient } from '../../src/client/arena-client.js';
import { weatherReplay } from '../../src/demo/weather-replay.js';
import { scheduleId, createModelSchedules } from '../../src/schedules/model-schedules.js';
import { startTraffic, type Traffic } from '../../src/simulate/traffic.js';
import type { DriftCheckOutcome } from '../../workflows/drift-check.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { artifactOf, eventually, setUpWeatherModel, weatherDays } from '../support/weather-model.js';

interface Job {
  id: string;
  status: string;
  trigger: string;
  candidate_version: string | null;
  error: string | null;
}

describe("the seeds' scenarios end to end (real server, Postgres, training processes, the example model)", () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let arena: ArenaClient;
  const traffic: Traffic[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('people');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    arena = new ArenaClient({ temporal: temporal.client, knex: db.knex, taskQueue: temporal.taskQueue });
  });
  afterAll(async () => {
    for (const t of traffic) await t.stop();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
  });

  /** Replays 2015 through the router with each version's real forecasts (temperatures shifted if asked). */
  async function replay(model: string, versions: string[], shiftTempC = 0): Promise<Traffic> {
    const artifacts = Object.fromEntries(
      await Promise.all(versions.map(async (v) => [v, await artifactOf(db.knex, model, v)] as const)),
    );
    const t = await startTraffic({
      databaseUrl: db.url,
      model,
      requestPrefix: `${model}-${versions.length}`,
      workload: weatherReplay({
        days: weatherDays,
        from: '2015-01-01',
        to: '2015-12-31',
        artifacts,
        shiftTempC,
      }),
      profiles: Object.fromEntries(versions.map((v) => [v, { noise: 0, latencyMs: 20 }])),
      ratePerSecond: 300,
    });
    traffic.push(t);
    return t;
  }

  async function stop(t: Traffic): Promise<void> {
    traffic.splice(traffic.indexOf(t), 1);
    await t.stop();
  }

  const job = (model: string, trigger: string) =>
    eventually(`a ${trigger} job of ${model} with a candidate`, async () => {
      const j = (await db.knex('retraining_jobs').where({ model, trigger }).first()) as Job | undefined;
      if (j && ['failed', 'rolled_back'].includes(j.status))
        throw new Error(`job ${j.id} ${j.status}: ${j.error}`);
      return j?.candidate_version ? j : undefined;
    });
  const finished = (id: string) =>
    eventually(
      `job ${id} to finish`,
      async () => {
        const j = (await db.knex('retraining_jobs').where({ id }).first()) as Job;
        return ['completed', 'failed', 'rolled_back'].includes(j.status) ? j : undefined;
      },
      90_000,
    );

  it('the weekly scheduled retrain trains, validates and auto-promotes a better model', async () => {
    const model = `weekly-${Date.now().toString(36)}`;
    await setUpWeatherModel(db.knex, model);
    const before = await replay(model, ['1.0.0']);
    const created = await createModelSchedules(
      db.knex,
      { client: temporal.client, taskQueue: temporal.taskQueue },
      { model },
    );
    try {
      // "Weekly" is now: the schedule's own trigger runs exactly what the timer would.
      await temporal.client.schedule.getHandle(scheduleId('retrain', 'default', model)).trigger();
      const j = await job(model, 'schedule');
      // A server that knows only the champion would fail every request routed to the candidate.
      await stop(before);
      await replay(model, ['1.0.0', j.candidate_version!]);
      const done = await finished(j.id);
      expect(done.status, done.error ?? '').toBe('completed');
      expect((await db.knex('routing').where({ model }).first('champion')).champion).toBe(
        j.candidate_version,
      );
      const approvals = await db.knex('approvals').where({ subject_id: `${model}-retrain-${j.id}` });
      expect(approvals).toEqual([]); // auto-approved: the policy of scheduled retrains needs no person
    } finally {
      for (const s of created) await temporal.client.schedule.getHandle(s.id).delete();
    }
  }, 150_000);

  it('drift → critical alert → retrain → a person approves through the alert → promotion', async () => {
    const model = `heat-${Date.now().toString(36)}`;
    await setUpWeatherModel(db.knex, model, {
      monitoring: { drift: { recentWindow: '10m', minSamples: 200 } },
    });
    const heat = await replay(model, ['1.0.0'], 8);
    await new Promise((r) => setTimeout(r, 3000));
    const check = (await (
      await temporal.client.workflow.start('driftCheckWorkflow', {
        taskQueue: temporal.taskQueue,
        workflowId: `drift-${model}`,
        args: [{ tenantId: 'default', model }],
      })
    ).result()) as DriftCheckOutcome;
    expect(check.drifted, check.summary).toBe(true);
    const j = await job(model, 'drift');
    await stop(heat);
    await replay(model, ['1.0.0', j.candidate_version!], 8);
    const rolloutId = `${model}-retrain-${j.id}`;
    const alert = await eventually<{ id: number }>(
      'the promotion_pending alert',
      async () =>
        (await db.knex('alerts').where({ rollout_id: rolloutId, type: 'promotion_pending' }).first('id')) as
          { id: number } | undefined,
    );
    expect(await db.knex('alerts').where({ model, type: 'drift_detected' }).first('severity')).toEqual({
      severity: 'critical',
    });
    await eventually(
      'the rollout to await approval',
      async () => (await arena.status(rolloutId)).state === 'awaiting_approval',
    );

    const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: inject('stack').temporalAddress };
    const r = await runCli(
      [
        'alerts',
        'approve',
        String(alert.id),
        '--by',
        'alice',
        '--comment',
        'heat wave is real; retrained model validated',
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      action: 'approve',
      rolloutId,
      alert: { status: 'actioned', actionedBy: 'alice' },
    });
    const again = await runCli(['alerts', 'approve', String(alert.id), '--by', 'alice'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already actioned/);

    const done = await finished(j.id);
    expect(done.status, done.error ?? '').toBe('completed');
    expect(await db.knex('approvals').where({ subject_id: rolloutId }).select('actor', 'comment')).toEqual([
      { actor: 'alice', comment: 'heat wave is real; retrained model validated' },
    ]);
    const audit = await db
      .knex('audit_log')
      .whereIn('action', ['rollout.approved', 'alert.actioned'])
      .pluck('actor');
    expect(audit).toEqual(expect.arrayContaining(['alice']));
  }, 180_000);
});
