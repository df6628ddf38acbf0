/// <reference lib="dom" />
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArenaClient } from '../../src/client/arena-client.js';
import { weatherReplay } from '../../src/demo/weather-replay.js';
import { createRecorder } from '../../src/ingest/recorder.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import {
  createModelSchedules,
  listModelSchedules,
  scheduleId,
  setSchedulePaused,
} from '../../src/schedules/model-schedules.js';
import { startTraffic } from '../../src/simulate/traffic.js';
import type { DriftCheckOutcome } from '../../workflows/drift-check.js';
import { launchChromium } from '../support/browser.js';
import { eventually, setUpWeatherModel, weatherDays } from '../support/weather-model.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';

describe('drift monitoring on a real Temporal server with the example model', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let arena: ArenaClient;
  beforeAll(async () => {
    db = await createTestDatabase('drift');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    arena = new ArenaClient({ temporal: temporal.client, knex: db.knex, taskQueue: temporal.taskQueue });
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
  });

  /** The seasonal champion serving 2015 replayed for a few seconds, temperatures shifted by `shiftTempC`. */
  async function serve(model: string, shiftTempC: number): Promise<void> {
    const champion = await setUpWeatherModel(db.knex, model, {
      monitoring: { drift: { recentWindow: '10m', minSamples: 200 } },
    });
    const traffic = await startTraffic({
      databaseUrl: db.url,
      model,
      workload: weatherReplay({
        days: weatherDays,
        from: '2015-01-01',
        to: '2015-12-31',
        artifacts: { '1.0.0': champion },
        shiftTempC,
      }),
      profiles: { '1.0.0': { noise: 0, latencyMs: 20 } },
      ratePerSecond: 300,
    });
    await new Promise((r) => setTimeout(r, 3000));
    await traffic.stop();
  }

  const check = async (model: string): Promise<DriftCheckOutcome> =>
    (await (
      await temporal.client.workflow.start('driftCheckWorkflow', {
        taskQueue: temporal.taskQueue,
        workflowId: `drift-check-${model}-${Date.now()}`,
        args: [{ tenantId: 'default', model }],
      })
    ).result()) as DriftCheckOutcome;

  it('no drift in ordinary traffic: reports written, no alert, no retraining', async () => {
    await serve('calm', 0);
    const out = await check('calm');
    expect(out.drifted, out.summary).toBe(false);
    expect(out.features.map((f) => f.feature).sort()).toEqual([
      'precipitation_1',
      'prediction',
      'temp_max_1',
      'temp_min_1',
      'wind_1',
    ]);
    for (const f of out.features) expect(f.psi).toBeLessThan(0.25);
    expect(await db.knex('drift_reports').where({ model: 'calm' }).count({ n: '*' })).toEqual([{ n: 10 }]);
    expect(await db.knex('alerts').where({ model: 'calm' })).toEqual([]);
    expect(await db.knex('retraining_jobs').where({ model: 'calm' })).toEqual([]);
  }, 60_000);

  it('a heat wave (+8 °C) fires the drift trigger: critical alert, retraining, a candidate waiting for approval', async () => {
    await serve('hot', 8);
    const out = await check('hot');
    expect(out.drifted).toBe(true);
    const temp = out.features.find((f) => f.feature === 'temp_max_1')!;
    expect(temp.psi).toBeGreaterThan(1);
    expect(temp.ks!.pValue).toBeLessThan(1e-6);
    expect(out.features.find((f) => f.feature === 'precipitation_1')!.drifted).toBe(false);
    const psiRows = await db
      .knex('drift_reports')
      .where({ model: 'hot', method: 'psi', drifted: true })
      .pluck('feature');
    expect(psiRows.sort()).toEqual(['temp_max_1', 'temp_min_1']);
    expect(await db.knex('alerts').where({ model: 'hot', type: 'drift_detected' }).first()).toMatchObject({
      severity: 'critical',
    });

    const jobId = out.retrain!.jobId!;
    expect(jobId).toBeTruthy();
    let job:
      { status: string; trigger: string; candidate_version: string | null; error: string | null } | undefined;
    for (let i = 0; i < 200; i++) {
      job = await db.knex('retraining_jobs').where({ id: jobId }).first();
      if (job && !['pending', 'running', 'validation'].includes(job.status)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(job, job?.error ?? '').toMatchObject({ trigger: 'drift', status: 'deploying' });
    const rolloutId = `hot-retrain-${jobId}`;
    for (
      let i = 0;
      i < 50 && (await arena.status(rolloutId).catch(() => null))?.state !== 'awaiting_approval';
      i++
    )
      await new Promise((r) => setTimeout(r, 200));
    expect((await arena.status(rolloutId)).state).toBe('awaiting_approval');
    await eventually('the promotion_pending alert', async () =>
      db.knex('alerts').where({ rollout_id: rolloutId, type: 'promotion_pending' }).first(),
    );
    await arena.reject(rolloutId, { by: 'test', reason: 'end of test' });
  }, 90_000);

  it('a classifier whose accuracy from feedback falls below the floor raises performance_degradation', async () => {
    const model = `spam-${Date.now().toString(36)}`;
    await registerVersion(db.knex, { model, version: '1.0.0', actor: 'setup' });
    await setChampion(db.knex, { model, version: '1.0.0', actor: 'setup' });
    await db
      .knex('models')
      .where({ name: model })
      .update({
        metadata: JSON.stringify({ monitoring: { performance: { minSamples: 100 } } }),
      });
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    // 400 labelled predictions, 80 % right: under the 92 % floor.
    const predictions = Array.from({ length: 400 }, (_, i) => ({
      requestId: `m-${i}`,
      model,
      version: '1.0.0',
      role: 'served',
      prediction: i % 5 === 0 ? 'ham' : 'spam',
    }));
    await recorder.recordPredictions(predictions, { durable: true });
    await recorder.recordFeedbackBatch(
      predictions.map((p) => ({ model, requestId: p.requestId, actual: 'spam' })),
      { durable: true },
    );
    await recorder.close();
    const out = await check(model);
    expect(out.drifted).toBe(false);
    expect(out.performance).toMatchObject({ champion: '1.0.0', n: 400, floor: 0.92, degraded: true });
    expect(out.performance.accuracy).toBeCloseTo(0.8, 10);
    expect(
      await db.knex('alerts').where({ model, type: 'performance_degradation' }).first('severity', 'title'),
    ).toEqual({
      severity: 'warning',
      title: `${model}: champion 1.0.0 accuracy 80.0% over 400 labelled predictions below the floor 92%`,
    });
    // No training configuration: the retrain is not started, and the outcome says why.
    expect(out.retrain?.note).toMatch(/has no training configuration/);
  }, 60_000);

  it('the weekly report shows the week: drift per feature, the alert, the retrain; Chromium draws it offline', async () => {
    const out = (await (
      await temporal.client.workflow.start('weeklyReportWorkflow', {
        taskQueue: temporal.taskQueue,
        workflowId: `weekly-report-hot-${Date.now()}`,
        args: [{ tenantId: 'default', model: 'hot' }],
      })
    ).result()) as { path: string; bytes: number };
    expect(out.path).toMatch(/hot-week-\d{4}-\d{2}-\d{2}\.html$/);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.route('**/*', (route) =>
        route.request().url().startsWith('file:') ? route.continue() : route.abort(),
      );
      await page.goto(`file://${out.path}`);
      await page.waitForFunction(
        () => (window as unknown as { __arenaChartsReady?: boolean }).__arenaChartsReady === true,
      );
      expect(errors).toEqual([]);
      const text = await page.locator('body').innerText();
      expect(text).toContain('drift_detected');
      expect(text).toMatch(/drift\s+(deploying|rolled_back|completed)/);
      const drawn = await page.evaluate(() =>
        Array.from(document.querySelectorAll('canvas[data-chart]')).map(
          (c) => (c as HTMLCanvasElement).toDataURL().length,
        ),
      );
      expect(drawn).toHaveLength(3);
      for (const length of drawn) expect(length).toBeGreaterThan(3000);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it('schedules: created from the monitoring policy, listed, paused and resumed', async () => {
    // Schedules live in the shared namespace: a model name of this run's own.
    const model = `sched-${Date.now().toString(36)}`;
    await registerVersion(db.knex, { model, version: '1.0.0', actor: 'setup' });
    const created = await createModelSchedules(
      db.knex,
      { client: temporal.client, taskQueue: temporal.taskQueue },
      { model },
    );
    expect(created.map((s) => [s.kind, s.every])).toEqual([
      ['drift', '3600s'],
      ['monitor', '900s'],
      ['backtest', '86400s'],
      ['backtest90', '604800s'],
      ['retrain', '604800s'],
      ['report', '604800s'],
    ]);
    const id = scheduleId('drift', 'default', model);
    try {
      expect((await setSchedulePaused(temporal.client, id, true, 'paused by test: maintenance')).paused).toBe(
        true,
      );
      expect((await listModelSchedules(temporal.client)).find((s) => s.id === id)).toMatchObject({
        paused: true,
        note: 'paused by test: maintenance',
      });
      expect((await setSchedulePaused(temporal.client, id, false, 'resumed by test')).paused).toBe(false);
    } finally {
      for (const s of created) await temporal.client.schedule.getHandle(s.id).delete();
    }
  }, 60_000);

  it("schedules: the seeds preset runs at the arena seed's times in a time zone, and a cron schedule triggers", async () => {
    const model = `seeds-${Date.now().toString(36)}`;
    await registerVersion(db.knex, { model, version: '1.0.0', actor: 'setup' });
    const created = await createModelSchedules(
      db.knex,
      { client: temporal.client, taskQueue: temporal.taskQueue },
      { model, preset: { name: 'seeds', timezone: 'Europe/Berlin' } },
    );
    try {
      expect(created.map((s) => [s.kind, s.every])).toEqual([
        ['drift', '3600s'],
        ['monitor', '900s'],
        ['backtest', 'calendar Europe/Berlin'],
        ['backtest90', 'calendar Europe/Berlin'],
        ['retrain', 'calendar Europe/Berlin'],
        ['report', 'calendar Europe/Berlin'],
      ]);
      // Next runs as Temporal computes them, read back in Berlin time: 06:00 daily, Sundays 04:00 and 02:00.
      const berlin = (iso: string) =>
        new Intl.DateTimeFormat('en-GB', {
          timeZone: 'Europe/Berlin',
          weekday: 'short',
          hour: '2-digit',
          minute: '2-digit',
          hourCycle: 'h23',
        }).format(new Date(iso));
      const next = Object.fromEntries(created.map((s) => [s.kind, s.nextRuns.map(berlin)]));
      expect(next.backtest!.every((t) => t.endsWith('06:00'))).toBe(true);
      expect(next.backtest90).toEqual(['Sun 04:00', 'Sun 04:00', 'Sun 04:00']);
      expect(next.retrain).toEqual(['Sun 02:00', 'Sun 02:00', 'Sun 02:00']);
      expect(next.report!.every((t) => t.endsWith('03:00'))).toBe(true);

      // The time is the server's: trigger the report schedule now, and its workflow runs on this worker.
      const report = temporal.client.schedule.getHandle(scheduleId('report', 'default', model));
      await report.trigger();
      const started = await eventually('the triggered run', async () => {
        const action = (await report.describe()).info.recentActions[0];
        return action?.action.workflow.workflowId;
      });
      await temporal.client.workflow.getHandle(started).result();
    } finally {
      for (const s of created) await temporal.client.schedule.getHandle(s.id).delete();
    }
  }, 60_000);
});
