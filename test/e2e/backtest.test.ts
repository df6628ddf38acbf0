import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { evaluate } from '../../examples/weather-model/model.js';
import type { BacktestOutcome } from '../../activities/backtest.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { operatorGateway } from '../support/operator-gateway.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { eventually, setUpWeatherModel, weatherDays } from '../support/weather-model.js';

const BACKTEST = {
  command: [
    process.execPath,
    '--import',
    'tsx',
    'examples/weather-model/backtest.ts',
    '--artifact',
    '{artifact}',
    '--from',
    '{from}',
    '--to',
    '{to}',
  ],
  dataEnd: '2015-12-31',
};

describe('walk-forward backtests and the degradation trigger (real server, real backtest processes)', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase('backtest');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: inject('stack').temporalAddress,
      ARENA_TASK_QUEUE: temporal.taskQueue,
    };
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
  });

  const addBacktest = (model: string) =>
    db
      .knex('models')
      .where({ name: model })
      .update({
        metadata: db.knex.raw(`metadata || jsonb_build_object('backtest', ?::jsonb)`, [
          JSON.stringify(BACKTEST),
        ]),
      });

  it('scores 7-day windows over the last 90 days like the model’s own evaluation, idempotently', async () => {
    const champion = await setUpWeatherModel(db.knex, 'bt-steady');
    await addBacktest('bt-steady');
    const r = await runCli(['backtest', 'bt-steady', '1.0.0', '--json'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as BacktestOutcome;
    expect(out).toMatchObject({ version: '1.0.0', asOf: '2015-12-31', degraded: false });
    expect(out.windows).toHaveLength(12);
    for (const w of out.windows) {
      const e = evaluate(champion, weatherDays, w.windowStart, w.windowEnd);
      expect(w.n).toBe(7);
      expect(w.mae).toBeCloseTo(e.mae, 9);
      expect(w.bias).toBeCloseTo(e.bias, 9);
    }
    const count = async () =>
      Number((await db.knex('backtest_results').where({ model: 'bt-steady' }).count({ n: '*' }))[0]!.n);
    expect(await count()).toBe(12);
    expect((await runCli(['backtest', 'bt-steady', '1.0.0', '--json'], env, 120_000)).code).toBe(0);
    expect(await count()).toBe(12);
    const text = await runCli(['backtest', 'bt-steady', '--lookback-days', '28'], env, 120_000);
    expect(text.stdout).toMatch(/4 windows up to 2015-12-31; MAE trend [▁▂▃▄▅▆▇█]{4} /);
  }, 120_000);

  it('a model worse than it promised raises backtest_degradation and starts a degradation retrain', async () => {
    await setUpWeatherModel(db.knex, 'bt-drop');
    await addBacktest('bt-drop');
    // It promised 1.0 °C at registration; its real weekly errors are larger.
    await db
      .knex('model_versions')
      .where({ model: 'bt-drop', version: '1.0.0' })
      .update({ metrics: JSON.stringify({ holdout: { mae: 1.0 } }) });
    const r = await runCli(['backtest', 'bt-drop', '--lookback-days', '7', '--json'], env, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as BacktestOutcome & { retrainJob: string | null };
    expect(out.degraded).toBe(true);
    expect(out.reason).toMatch(/MAE \d\.\d{3} vs holdout 1\.000 \(\+?\d+\.\d%, limit \+15%\)/);
    expect(
      await db.knex('alerts').where({ model: 'bt-drop', type: 'backtest_degradation' }).first('severity'),
    ).toEqual({ severity: 'warning' });
    const job = await eventually('the degradation retrain to deploy', async () => {
      const j = (await db.knex('retraining_jobs').where({ id: out.retrainJob }).first()) as {
        status: string;
        trigger: string;
        error: string | null;
      };
      if (j.status === 'failed') throw new Error(j.error ?? 'failed');
      return j.status === 'deploying' ? j : undefined;
    });
    expect(job.trigger).toBe('degradation');
    const rolloutId = `bt-drop-retrain-${out.retrainJob}`;
    // Raised just after the rollout starts, a moment after the job says deploying.
    await eventually('the promotion_pending alert', async () =>
      db.knex('alerts').where({ rollout_id: rolloutId, type: 'promotion_pending' }).first('id'),
    );
  }, 120_000);

  it('runs over HTTP: POST answers 202 with the workflow, GET reads the stored windows', async () => {
    const champion = await setUpWeatherModel(db.knex, 'bt-http');
    await addBacktest('bt-http');
    const gateway = await operatorGateway(db, temporal);
    const call = gateway.call;
    try {
      for (const asOf of ['2015-13-01', '2015-02-30']) {
        const bad = await call('POST', '/v1/models/bt-http/backtests', { asOf });
        expect(bad.status).toBe(400);
        expect(bad.body.error).toBe(`body.asOf="${asOf}": must be a real calendar date`);
      }
      expect((await call('POST', '/v1/models/bt-none/backtests', {})).status).toBe(404);

      const started = await call('POST', '/v1/models/bt-http/backtests', { lookbackDays: 14 });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const outcome = (await temporal.client.workflow
        .getHandle(started.body.workflowId as string)
        .result()) as BacktestOutcome;
      expect(outcome.windows).toHaveLength(2);
      const { body: windows } = await call<
        Array<{ version: string; windowStart: string; windowEnd: string; mae: number }>
      >('GET', '/v1/models/bt-http/backtests');
      expect(windows.map((w) => [w.version, w.windowStart, w.windowEnd])).toEqual([
        ['1.0.0', '2015-12-18', '2015-12-24'],
        ['1.0.0', '2015-12-25', '2015-12-31'],
      ]);
      for (const w of windows)
        expect(w.mae).toBeCloseTo(evaluate(champion, weatherDays, w.windowStart, w.windowEnd).mae, 9);
    } finally {
      await gateway.close();
    }
  }, 120_000);
});
