import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArenaClient } from '../../src/client/arena-client.js';
import { ExperimentClient } from '../../src/client/experiment-client.js';
import type { ExperimentStatus } from '../../src/experiments/types.js';
import { getRouting } from '../../src/routing/store.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { startTraffic, type Traffic } from '../../src/simulate/traffic.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { eventually } from '../support/weather-model.js';

describe('an experiment on a segmented model: proposed, approved, shadow-tested, partially adopted', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let experiments: ExperimentClient;
  const traffic: Traffic[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('experiment');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    experiments = new ExperimentClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
    });
  });
  afterAll(async () => {
    for (const t of traffic) await t.stop();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
  });

  it('adopts the segment where the challenger is better and only that one', async () => {
    // Store demand per region: one Arena model per segment. The new features help the north, hurt the south.
    const noise = { 'sales-north': { '1.0.0': 10, '1.1.0': 6 }, 'sales-south': { '1.0.0': 10, '1.1.0': 14 } };
    for (const [model, profiles] of Object.entries(noise)) {
      for (const v of Object.keys(profiles))
        await registerVersion(db.knex, { model, version: v, actor: 'setup' });
      await setChampion(db.knex, { model, version: '1.0.0', actor: 'setup' });
      traffic.push(
        await startTraffic({
          databaseUrl: db.url,
          model,
          ratePerSecond: 300,
          profiles: Object.fromEntries(Object.entries(profiles).map(([v, n]) => [v, { noise: n }])),
        }),
      );
    }
    const { experimentId } = await experiments.propose({
      name: 'regional weather features',
      hypothesis: 'adding regional weather lags lowers MAE by 5% or more',
      type: 'feature_engineering',
      expectedImprovement: 0.05,
      proposer: 'dora-the-data-scientist',
      segments: [
        { segment: 'north', model: 'sales-north', challenger: '1.1.0' },
        { segment: 'south', model: 'sales-south', challenger: '1.1.0' },
      ],
      rolloutPolicy: { approval: { required: true, timeout: '1h' } },
    });

    await expect(experiments.approve(experimentId, { by: 'dora-the-data-scientist' })).rejects.toThrow(
      /dora-the-data-scientist proposed .* and cannot approve it too/,
    );
    await expect(experiments.start(experimentId, { by: 'dora-the-data-scientist' })).rejects.toThrow(
      /cannot start .*: it is proposed/,
    );
    const approved = await experiments.approve(experimentId, {
      by: 'mo-the-manager',
      comment: 'worth a week of shadow',
    });
    expect(approved).toMatchObject({ state: 'approved', approver: 'mo-the-manager' });

    const started = await experiments.start(experimentId, { by: 'dora-the-data-scientist' });
    expect(started.state).toBe('shadow_testing');
    expect(await getRouting(db.knex, 'sales-north')).toMatchObject({ mode: 'shadow', challenger: '1.1.0' });

    // The CLI shows the live experiment; after a few seconds of mirrored traffic, complete it.
    await new Promise((r) => setTimeout(r, 4000));
    const env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: inject('stack').temporalAddress,
      ARENA_TASK_QUEUE: temporal.taskQueue,
    };
    const shown = await runCli(['experiment', 'show', experimentId, '--json'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as ExperimentStatus).state).toBe('shadow_testing');

    const done = await experiments.complete(experimentId, {
      by: 'mo-the-manager',
      decision: 'partial_adopt',
      adopt: ['north'],
      rationale: 'north improves clearly; south gets worse, keep its champion',
    });
    expect(done).toMatchObject({ state: 'completed', decision: 'partial_adopt', adopted: ['north'] });
    const [north, south] = done.results!;
    expect(north).toMatchObject({ segment: 'north', challenger: '1.1.0', champion: '1.0.0' });
    expect(north!.n).toBeGreaterThan(100);
    expect(north!.relative!).toBeLessThan(-0.2); // MAE ≈ 4.8 vs 8.0: about 40 % lower
    expect(north!.ci![1]).toBeLessThan(0);
    expect(south!.relative!).toBeGreaterThan(0.2);
    expect(Object.keys(done.rollouts)).toEqual(['north']);

    // Exactly one rollout started, for the adopted segment, and it is a real rollout waiting for approval.
    const arena = new ArenaClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
    });
    const rolloutId = done.rollouts.north!;
    await eventually(
      'the adopted segment’s rollout',
      async () => (await arena.status(rolloutId).catch(() => null))?.state === 'awaiting_approval',
    );
    expect(await db.knex('rollouts').pluck('model')).toEqual(['sales-north']);
    expect(await getRouting(db.knex, 'sales-south')).toMatchObject({
      mode: 'off',
      challenger: null,
      champion: '1.0.0',
    });
    await arena.reject(rolloutId, { by: 'mo-the-manager', reason: 'end of test' });

    expect(await db.knex('alerts').where({ type: 'experiment_complete' }).first('severity', 'title')).toEqual(
      {
        severity: 'info',
        title: 'Experiment regional weather features: partial_adopt (north)',
      },
    );
    // The approval is a decision people hear about, once (docs/operations.md, "Day 2").
    expect(
      await db.knex('alerts').where({ type: 'experiment_decision' }).select('severity', 'title'),
    ).toEqual([
      {
        severity: 'info',
        title: 'Experiment regional weather features approved by mo-the-manager: worth a week of shadow',
      },
    ]);
    const audit = await db
      .knex('audit_log')
      .where({ entity_type: 'experiment', entity_id: experimentId })
      .orderBy('id')
      .select('action', 'actor');
    expect(audit).toEqual([
      { action: 'experiment.proposed', actor: 'dora-the-data-scientist' },
      { action: 'experiment.approved', actor: 'mo-the-manager' },
      { action: 'experiment.in_progress', actor: 'dora-the-data-scientist' },
      { action: 'experiment.shadow_testing', actor: 'arena' },
      { action: 'experiment.completed', actor: 'mo-the-manager' },
    ]);
    const list = await runCli(['experiment', 'list', '--json'], env);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ experimentId, status: 'completed', decision: 'partial_adopt' }),
    ]);
  }, 120_000);
});
