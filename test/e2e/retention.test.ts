import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RetentionOutcome } from '../../activities/retention.js';
import { createRecorder } from '../../src/ingest/recorder.js';
import { registerVersion } from '../../src/registry/registry.js';
import { createRetentionSchedule, RETENTION_SCHEDULE_ID } from '../../src/schedules/model-schedules.js';
import { createTestDatabase, dayPartitionNames, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/weather-model.js';

const DAY = 86_400_000;

/**
 * Issue #21: retention is a scheduled job. The deployment's schedule, triggered on the test server, runs the
 * retention workflow on a real worker, which drops the raw days past the model's retention and nothing else;
 * `arena db retention --dry-run` says the same of each day without dropping.
 */
describe('retention: the arena-retention schedule drops expired days', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  const now = Date.now();
  const old = new Date(now - 60 * DAY).toISOString();
  const recent = new Date(now - 2 * DAY).toISOString();
  const dayOf = (iso: string) => iso.slice(0, 10).replaceAll('-', '');

  beforeAll(async () => {
    db = await createTestDatabase('retention_e2e');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    await registerVersion(db.knex, { model: 'kept', version: '1.0.0', actor: 't' });
    const recorder = createRecorder({ databaseUrl: db.url });
    const records = [old, recent].flatMap((at, d) =>
      Array.from({ length: 20 }, (_, i) => ({
        requestId: `r${d}-${i}`,
        model: 'kept',
        version: '1.0.0',
        prediction: i,
        at,
      })),
    );
    expect((await recorder.recordPredictions(records, { durable: true })).rejected).toEqual([]);
    await recorder.close();
  }, 60_000);

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
  });

  const partitions = (): Promise<string[]> => dayPartitionNames(db.knex, 'predictions');

  it('dry run through the CLI, then the schedule, triggered, drops the 60-day-old day only', async () => {
    const env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: inject('stack').temporalAddress,
      ARENA_TASK_QUEUE: temporal.taskQueue,
    };
    const dry = await runCli(['db', 'retention', '--dry-run'], env);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`${old.slice(0, 10)}`);
    expect(dry.stdout).toMatch(
      new RegExp(`${old.slice(0, 10)} +[\\d.]+ MB +would drop +past the retention of kept`),
    );
    expect(dry.stdout).toMatch(new RegExp(`${recent.slice(0, 10)} +[\\d.]+ MB +kept +kept keeps 37 days`));
    expect(await partitions()).toContain(`predictions_${dayOf(old)}`);

    const schedule = await createRetentionSchedule({
      client: temporal.client,
      taskQueue: temporal.taskQueue,
    });
    try {
      expect(schedule).toMatchObject({ id: RETENTION_SCHEDULE_ID, kind: 'retention', paused: false });
      expect(schedule.nextRuns[0]).toMatch(/T03:30:00\.000Z$/);
      const handle = temporal.client.schedule.getHandle(RETENTION_SCHEDULE_ID);
      await handle.trigger();
      const started = await eventually('the triggered retention run', async () => {
        const action = (await handle.describe()).info.recentActions[0];
        return action?.action.workflow.workflowId;
      });
      const out = (await temporal.client.workflow.getHandle(started).result()) as RetentionOutcome;
      expect(out.days.filter((d) => d.dropped).map((d) => d.day)).toEqual([old.slice(0, 10)]);
    } finally {
      await temporal.client.schedule.getHandle(RETENTION_SCHEDULE_ID).delete();
    }
    expect(await partitions()).not.toContain(`predictions_${dayOf(old)}`);
    expect(await partitions()).toContain(`predictions_${dayOf(recent)}`);
    expect(await db.knex('predictions').pluck('request_id')).toHaveLength(20);
  }, 90_000);
});
