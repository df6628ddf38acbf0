import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDay } from '../../examples/flights-model/data.js';
import { trainFlightsModel } from '../../examples/flights-model/model.js';
import { ArenaClient } from '../../src/client/arena-client.js';
import { flightsReplay } from '../../src/demo/flights-replay.js';
import { createRecorder } from '../../src/ingest/recorder.js';
import { retrainWorkflowId } from '../../src/retrain/types.js';
import type { DriftCheckOutcome } from '../../workflows/drift-check.js';
import type { TestDatabase } from '../support/database.js';
import { firstFlights, writeFlights, registerFlightsChampion } from '../support/flights.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import type { TestTemporal } from '../support/temporal.js';
import { tsxCommand } from '../support/commands.js';

/**
 * The seeds' accuracy trigger on real feedback: the flights champion serves real flights, their outcomes
 * arrive as feedback, its accuracy (about 80 %) is below the 92 % floor, and the hourly check starts a
 * retrain (trigger `degradation`) that trains and validates the classifier with its own commands, on
 * accuracy and F1, and leaves its candidate's rollout waiting for a person.
 */
describe('accuracy below the floor on real feedback starts a classifier retrain (real Temporal)', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let stack: TestStack;
  let dir: string;
  const model = `flights-${Date.now().toString(36)}`;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arena-accuracy-retrain-'));
    const slice = join(dir, 'flights.parquet');
    writeFlights(slice, await firstFlights('2001-01-09'));
    stack = await startTestStack('accuracy_retrain', 'retrain');
    ({ db, temporal } = stack);
    const window = {
      trainFrom: '2001-01-01',
      trainTo: '2001-01-08',
      holdoutFrom: '2001-01-08',
      holdoutTo: '2001-01-09',
    };
    const champion = await trainFlightsModel({
      model,
      version: '1.0.0',
      featureSet: 'schedule',
      trainFrom: localDay(window.trainFrom),
      trainTo: localDay(window.trainTo),
      holdoutFrom: localDay(window.holdoutFrom),
      holdoutTo: localDay(window.holdoutTo),
      path: slice,
    });
    await registerFlightsChampion(db.knex, model, champion);
    await db
      .knex('models')
      .where({ name: model })
      .update({
        metadata: JSON.stringify({
          monitoring: { performance: { minSamples: 1000 } },
          training: {
            window,
            process: {
              command: tsxCommand(
                'examples/flights-model/train.ts',
                ...['--model', '{model}', '--version', '{version}', '--features', 'schedule+airports'],
                ...['--train-from', '{trainFrom}', '--train-to', '{trainTo}'],
                ...[
                  '--holdout-from',
                  '{holdoutFrom}',
                  '--holdout-to',
                  '{holdoutTo}',
                  '--data',
                  slice,
                  '--out',
                  '{out}',
                ],
              ),
            },
            validate: {
              command: tsxCommand(
                'examples/flights-model/evaluate.ts',
                ...['--candidate', '{candidate}', '--champion', '{champion}'],
                ...['--from', '{holdoutFrom}', '--to', '{holdoutTo}', '--data', slice],
              ),
              metrics: [
                { name: 'logLoss', direction: 'lower', minImprovement: 0.01 },
                { name: 'f1', direction: 'higher', minImprovement: 0.05 },
              ],
            },
          },
        }),
      });
    // The champion serves June 1, 2001: its real probabilities, the real outcomes as feedback.
    const replay = await flightsReplay({
      artifacts: { '1.0.0': champion },
      from: localDay('2001-06-01'),
      to: localDay('2001-06-02'),
    });
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    const now = Date.now();
    const requests = Array.from({ length: 5000 }, (_, i) => ({ id: `${model}-${i}`, r: replay.request(i) }));
    const stored = await recorder.recordPredictions(
      requests.map(({ id, r }, i) => {
        const a = r.predict('1.0.0')!;
        return {
          requestId: id,
          model,
          version: '1.0.0',
          prediction: a.label,
          probability: a.probability,
          at: now - 60_000 + i,
        };
      }),
      { durable: true },
    );
    expect(stored.rejected).toEqual([]);
    await recorder.recordFeedbackBatch(
      requests.map(({ id, r }) => ({ model, requestId: id, actual: r.actual })),
      { durable: true },
    );
    await recorder.close();
  }, 600_000);
  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('detects the degradation, retrains, validates on log loss and F1, and waits for a person', async () => {
    const out = (await (
      await temporal.client.workflow.start('driftCheckWorkflow', {
        taskQueue: temporal.taskQueue,
        workflowId: `drift-check-${model}`,
        args: [{ tenantId: 'default', model }],
      })
    ).result()) as DriftCheckOutcome;
    expect(out.performance).toMatchObject({ champion: '1.0.0', n: 5000, floor: 0.92, degraded: true });
    expect(out.performance.accuracy).toBeGreaterThan(0.7);
    expect(out.performance.accuracy).toBeLessThan(0.92);
    expect(out.retrain?.jobId).toBeTruthy();
    const jobId = out.retrain!.jobId!;
    // The retrain runs to its candidate's rollout, which waits for approval: a degradation never auto-approves.
    const handle = temporal.client.workflow.getHandle(retrainWorkflowId('default', model, jobId));
    const deadline = Date.now() + 120_000;
    let job:
      | { status: string; trigger?: string; validation?: { passed: boolean; reason: string } | null }
      | undefined;
    while (Date.now() < deadline) {
      job = (await handle.query('status')) as typeof job;
      if (job && ['deploying', 'failed', 'completed'].includes(job.status)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(job?.validation?.passed, job?.validation?.reason).toBe(true);
    expect(job?.status).toBe('deploying');
    expect(out.performance.reason).toMatch(
      /accuracy \d+\.\d% over 5000 labelled predictions below the floor 92%/,
    );
    const row = (await db.knex('retraining_jobs').where({ id: jobId }).first('trigger', 'metrics')) as {
      trigger: string;
      metrics: { checks: Array<{ metric: string; passed: boolean }> };
    };
    expect(row.trigger).toBe('degradation');
    expect(row.metrics.checks.map((c) => [c.metric, c.passed])).toEqual([
      ['logLoss', true],
      ['f1', true],
    ]);
    let rollout: { id: string; state: string } | undefined;
    for (const until = Date.now() + 60_000; Date.now() < until;) {
      rollout = await db.knex('rollouts').where({ model }).first('id', 'state');
      if (rollout?.state === 'awaiting_approval') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(rollout).toMatchObject({ state: 'awaiting_approval' });
    // A person rejects it: the rollout ends, and with it the retrain (nothing left running on the server).
    const arena = new ArenaClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
    });
    await arena.reject(rollout!.id, { by: 'tester', reason: 'end of test' });
    await handle.result().catch(() => undefined);
  }, 180_000);
});
