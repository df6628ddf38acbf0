import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionActivities } from '../../../activities/retention.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { createLogger } from '../../../src/log.js';
import { registerVersion } from '../../../src/registry/registry.js';
import { DEFAULT_POLICY } from '../../../src/policy/policy.js';
import { createTestDatabase, dayPartitionNames, type TestDatabase } from '../../support/database.js';

const DURABLE = { durable: true };
const count = async (q: {
  count: (c: { n: string }) => { first: () => Promise<unknown> };
}): Promise<number> => Number(((await q.count({ n: '*' }).first()) as { n: string | number }).n);
const day = (d: string, hour = 12) => `${d}T${String(hour).padStart(2, '0')}:00:00.000Z`;

describe('day partitions and retention on real Postgres', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('retention');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    for (const model of ['short', 'long', 'busy'])
      for (const version of ['1.0.0', '1.1.0'])
        await registerVersion(db.knex, { model, version, actor: 't' });
    // short keeps 1 + 2 = 3 days; long and busy the defaults (7 + 30 = 37).
    await db
      .knex('models')
      .where({ name: 'short' })
      .update({
        metadata: JSON.stringify({ monitoring: { retention: { feedbackWindow: '1d', rawDays: 2 } } }),
      });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const partitions = (): Promise<string[]> => dayPartitionNames(db.knex, 'predictions');

  const outcomes = async (model: string): Promise<number> => {
    const row = (await db
      .knex('metric_rollups')
      .where({ model, metric: 'abs_error' })
      .sum({ n: 'count' })
      .first()) as { n: string | null };
    return Number(row.n ?? 0);
  };

  it('stores a request in the day of its first record: retries and late actuals on other days stay one', async () => {
    const recorder = createRecorder({ pool, validateModels: true });
    // Feedback first, on the 10th; its prediction and shadow later, stamped the 11th and 12th.
    await recorder.recordFeedbackBatch(
      [{ model: 'long', requestId: 'q1', actual: 3, at: day('2026-11-10') }],
      DURABLE,
    );
    await recorder.recordPredictions(
      [
        { requestId: 'q1', model: 'long', version: '1.0.0', prediction: 1, at: day('2026-11-11') },
        { requestId: 'q2', model: 'long', version: '1.0.0', prediction: 5, at: day('2026-11-11') },
      ],
      DURABLE,
    );
    await recorder.recordPredictions(
      [
        {
          requestId: 'q1',
          model: 'long',
          version: '1.1.0',
          role: 'shadow',
          prediction: 2,
          at: day('2026-11-12'),
        },
        // A retried request the server stamped again, a day later: the same prediction, not a second one.
        { requestId: 'q2', model: 'long', version: '1.0.0', prediction: 5, at: day('2026-11-12') },
      ],
      DURABLE,
    );
    // A second actual, days later: the first wins.
    await recorder.recordFeedbackBatch(
      [
        { model: 'long', requestId: 'q1', actual: 100, at: day('2026-11-14') },
        { model: 'long', requestId: 'q2', actual: 4, at: day('2026-11-14') },
      ],
      DURABLE,
    );
    await recorder.close();

    const rows = await db
      .knex('predictions')
      .where({ model: 'long' })
      .orderBy(['request_id', 'version'])
      .select('request_id', 'version', db.knex.raw('day::text as day'));
    expect(rows).toEqual([
      { request_id: 'q1', version: '1.0.0', day: '2026-11-10' },
      { request_id: 'q1', version: '1.1.0', day: '2026-11-10' },
      { request_id: 'q2', version: '1.0.0', day: '2026-11-11' },
    ]);
    const actuals = await db
      .knex('feedback')
      .where({ model: 'long' })
      .orderBy('request_id')
      .select('request_id', 'actual', db.knex.raw('day::text as day'));
    expect(actuals).toEqual([
      { request_id: 'q1', actual: 3, day: '2026-11-10' },
      { request_id: 'q2', actual: 4, day: '2026-11-11' },
    ]);
    // Three predictions with an actual, each counted once: q1's two against 3, q2's against 4.
    expect(await outcomes('long')).toBe(3);
    const pair = (await db
      .knex('metric_rollups')
      .where({ model: 'long', version: '1.1.0', metric: 'abs_error' })
      .sum({ n: 'paired_count' })
      .first()) as { n: string };
    expect(Number(pair.n)).toBe(1);
    expect(await partitions()).toEqual(
      expect.arrayContaining(['predictions_20261110', 'predictions_20261111', 'predictions_20261112']),
    );
  });

  it('drops only the days every model on them has let go, never one an active rollout reads', async () => {
    const recorder = createRecorder({ pool, validateModels: true });
    const records = [];
    for (const [model, d] of [
      ['short', '2026-11-25'],
      ['short', '2026-11-30'],
      ['short', '2026-12-02'],
      ['short', '2026-10-20'],
      ['long', '2026-10-20'],
      ['long', '2026-11-25'],
      ['busy', '2026-10-05'],
      ['busy', '2026-10-06'],
    ] as const)
      for (let i = 0; i < 5; i++)
        records.push({ requestId: `${model}-${d}-${i}`, model, version: '1.0.0', prediction: i, at: day(d) });
    await recorder.recordPredictions(records, DURABLE);
    await recorder.recordFeedbackBatch(
      records.map((r) => ({ model: r.model, requestId: r.requestId, actual: 1, at: r.at })),
    );
    await recorder.close();
    // busy has a rollout running since 10-06: it reads 10-05 (the day before its start) onwards.
    await db.knex('rollouts').insert({
      id: 'r-busy',
      model: 'busy',
      champion: '1.0.0',
      challenger: '1.1.0',
      state: 'canary',
      policy: JSON.stringify(DEFAULT_POLICY),
      proposed_by: 't',
      workflow_id: 'wf-busy',
      created_at: new Date('2026-10-06T09:00:00Z'),
    });

    const acts = retentionActivities({
      knex: db.knex,
      clock: () => new Date('2026-12-04T10:00:00Z'),
      log: createLogger('silent'),
      rollupBucketMs: 60_000,
    });
    const before = await partitions();
    const dry = await acts.applyRetention({ runId: 'dry', dryRun: true });
    expect(await partitions()).toEqual(before);
    const due = dry.days.filter((d) => d.drop).map((d) => d.day);
    // short keeps 3 days, long and busy 37; the first test's feedback and retried request made partitions
    // for 11-12 and 11-14 that hold no request.
    expect(due).toEqual(['2026-10-20', '2026-11-12', '2026-11-14', '2026-11-30']);
    expect(dry.days.find((d) => d.day === '2026-10-20')!.reason).toBe('past the retention of long, short');
    expect(dry.days.find((d) => d.day === '2026-11-12')!.reason).toBe('no model has rows on it');
    expect(dry.days.find((d) => d.day === '2026-10-05')!.reason).toMatch(/rollout r-busy of busy is active/);
    expect(dry.days.find((d) => d.day === '2026-11-25')!.reason).toMatch(/^long keeps 37 days/);
    expect(dry.days.find((d) => d.day === '2026-12-02')!.reason).toBe('short keeps 3 days: until 2026-12-05');

    const rollupsBefore = await db.knex('metric_rollups').count({ n: '*' }).first();
    const run = await acts.applyRetention({ runId: 'run-1' });
    expect(run.dropped).toBe(4);
    expect(run.days.find((d) => d.day === '2026-11-30')).toMatchObject({ dropped: true });
    expect(run.freedBytes).toBeGreaterThan(0);
    expect(await partitions()).not.toContain('predictions_20261130');
    expect(await count(db.knex('predictions').where({ model: 'short' }))).toBe(10);
    expect(await count(db.knex('predictions').where({ model: 'long' }))).toBe(8);
    expect(await count(db.knex('requests').whereRaw(`day = '2026-11-30'`))).toBe(0);
    expect(await db.knex('raw_data_days').whereRaw(`day = '2026-11-30'`)).toEqual([]);
    // Rollups and analyses are kept forever.
    expect(await db.knex('metric_rollups').count({ n: '*' }).first()).toEqual(rollupsBefore);
    expect(
      await count(db.knex('audit_log').where({ action: 'raw_day.dropped', entity_id: '2026-11-30' })),
    ).toBe(1);

    // The rollout ends: its days go at the next run; running it again (a retried activity) changes nothing.
    await db
      .knex('rollouts')
      .where({ id: 'r-busy' })
      .update({ ended_at: new Date('2026-12-01T00:00:00Z') });
    const next = await acts.applyRetention({ runId: 'run-2' });
    expect(next.days.filter((d) => d.dropped).map((d) => d.day)).toEqual(['2026-10-05', '2026-10-06']);
    const again = await acts.applyRetention({ runId: 'run-2' });
    expect(again.dropped).toBe(0);
    expect(await db.knex('predictions').where({ model: 'busy' })).toEqual([]);
  });

  it('writes again into a day retention dropped under a running recorder, making its partition anew', async () => {
    const recorder = createRecorder({ pool, validateModels: true });
    const at = day('2026-09-01');
    await recorder.recordPredictions(
      [{ requestId: 'late-1', model: 'short', version: '1.0.0', prediction: 1, at }],
      DURABLE,
    );
    await recorder.flush();
    await db.knex.raw('drop table predictions_20260901, feedback_20260901');
    await db.knex('requests').whereRaw(`day = '2026-09-01'`).delete();
    // This process still believes the day exists; the write finds no partition, forgets, and makes it.
    const out = await recorder.recordPredictions(
      [{ requestId: 'late-2', model: 'short', version: '1.0.0', prediction: 1, at }],
      DURABLE,
    );
    expect(out.rejected).toEqual([]);
    await recorder.close();
    expect(await db.knex('predictions').where({ request_id: 'late-2' }).pluck('request_id')).toEqual([
      'late-2',
    ]);
  });
});
