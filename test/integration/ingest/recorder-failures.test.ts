import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { WriteFailedError } from '../../../src/ingest/write-errors.js';
import { registerVersion } from '../../../src/registry/registry.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/**
 * Every way a write can fail, on real PostgreSQL (issue 15): the records at fault are refused with their
 * index and the database's reason while the rest of the batch is stored; a refusal no record causes is
 * reported at once; an unreachable database is retried for a bound and then reported; and no failure stalls
 * the writes after it. Each case hung, dropped records silently or was counted as accepted before.
 */
const MODEL = 'faults';

function prediction(requestId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    requestId,
    model: MODEL,
    version: '1.0.0',
    prediction: 1,
    latencyMs: 5,
    at: new Date(Date.now() - 60_000).toISOString(),
    ...extra,
  };
}

async function rollupCount(db: TestDatabase, prefix: string): Promise<number> {
  const stored = await db.knex('predictions').where('request_id', 'like', `${prefix}%`).pluck('request_id');
  const buckets = await db
    .knex('predictions')
    .where('request_id', 'like', `${prefix}%`)
    .distinct(db.knex.raw(`date_trunc('minute', at) as b`));
  expect(buckets.length).toBeGreaterThan(0);
  const { n } = (await db
    .knex('metric_rollups')
    .where({ model: MODEL, metric: 'error' })
    .sum({ n: 'count' })
    .first()) as { n: string | null };
  return stored.length === 0 ? 0 : Number(n ?? 0);
}

/** A port nothing listens on: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('recorder write failures on real Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('recorder_failures');
    await registerVersion(db.knex, { model: MODEL, version: '1.0.0', actor: 't' });
  });
  afterAll(async () => db?.drop());

  it('refuses only the records PostgreSQL refuses, with index and reason, and stores and counts the rest once', async () => {
    // A rule of this database that validation cannot know: PostgreSQL itself refuses the row.
    await db.knex.raw(
      `alter table predictions add constraint no_evil check (request_id not like 'bis-evil%')`,
    );
    try {
      const batch = Array.from({ length: 5_000 }, (_, i) =>
        prediction(i === 1234 || i === 4321 ? `bis-evil-${i}` : `bis-${i}`),
      );
      const recorder = createRecorder({ databaseUrl: db.url, flushIntervalMs: 5 });
      const outcome = await recorder.recordPredictions(batch, { durable: true });
      const stats = recorder.stats();
      await recorder.close();
      expect(outcome.accepted).toBe(4_998);
      expect(outcome.rejected).toEqual([
        { index: 1234, field: '(record)', reason: expect.stringMatching(/no_evil.*23514/) },
        { index: 4321, field: '(record)', reason: expect.stringMatching(/no_evil.*23514/) },
      ]);
      expect(stats).toMatchObject({ written: 4_998, refused: 2, failed: 0 });
      expect(await rollupCount(db, 'bis-')).toBe(4_998);
    } finally {
      await db.knex.raw('alter table predictions drop constraint no_evil');
    }
  });

  it('reports a refusal no record causes at once, without retrying it, and the next write goes through', async () => {
    await db.knex.raw('alter table feedback rename to feedback_away');
    const recorder = createRecorder({ databaseUrl: db.url, flushIntervalMs: 5, retryForMs: 60_000 });
    try {
      const started = Date.now();
      const err = await recorder
        .recordFeedbackBatch([{ model: MODEL, requestId: 'bis-1', actual: 2 }], { durable: true })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WriteFailedError);
      expect(err).toMatchObject({ kind: 'batch', failed: 1 });
      expect((err as Error).message).toMatch(/feedback.*does not exist.*42P01/);
      // Not retried for retryForMs: the error is not one that time fixes.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(recorder.health()).toMatchObject({ state: 'failing', reason: expect.stringMatching(/42P01/) });
    } finally {
      await db.knex.raw('alter table feedback_away rename to feedback');
    }
    const after = await recorder.recordFeedbackBatch([{ model: MODEL, requestId: 'bis-2', actual: 2 }], {
      durable: true,
    });
    expect(after).toMatchObject({ accepted: 1, rejected: [] });
    expect(recorder.health().state).toBe('ok');
    await recorder.close();
  });

  it('retries an unreachable database for retryForMs, then tells the durable caller and flush; never forever', async () => {
    const url = new URL(db.url);
    url.port = String(await closedPort());
    const recorder = createRecorder({
      databaseUrl: url.toString(),
      validateModels: false,
      flushIntervalMs: 5,
      retryForMs: 1_500,
    });
    const durable = await recorder
      .recordPredictions([prediction('gone-1'), prediction('gone-2')], { durable: true })
      .catch((e: unknown) => e);
    expect(durable).toBeInstanceOf(WriteFailedError);
    expect(durable).toMatchObject({ kind: 'transient' });
    expect((durable as Error).message).toMatch(/unreachable.*ECONNREFUSED/);
    expect(recorder.health()).toMatchObject({ state: 'failing' });

    // A caller that did not wait learns it from flush, with how many records were not stored.
    const buffered = await recorder.recordPredictions([prediction('gone-3')]);
    expect(buffered.accepted).toBe(1);
    await expect(recorder.flush()).rejects.toThrow(/1 records could not be stored/);
    expect(recorder.stats()).toMatchObject({ failed: 3, written: 0, buffered: 0 });
    await recorder.close();
  });

  it('answers a model check against an unreachable database with the connection error, queuing nothing', async () => {
    const url = new URL(db.url);
    url.port = String(await closedPort());
    const recorder = createRecorder({ databaseUrl: url.toString(), flushIntervalMs: 5 });
    await expect(recorder.recordPredictions([prediction('k-1')], { durable: true })).rejects.toThrow(
      /ECONNREFUSED/,
    );
    expect(recorder.stats().buffered).toBe(0);
    await recorder.close();
  });

  it('gives up on a write stuck behind a lock when closed with a deadline: its caller is told, not acknowledged', async () => {
    const blocker = new pg.Client({ connectionString: db.url });
    await blocker.connect();
    const recorder = createRecorder({ databaseUrl: db.url, flushIntervalMs: 5 });
    try {
      await blocker.query('begin');
      await blocker.query('lock table predictions in access exclusive mode');
      const stuck = recorder
        .recordPredictions([prediction('stuck-1')], { durable: true })
        .catch((e: unknown) => e);
      await expect.poll(() => recorder.stats().buffered).toBe(1);
      await recorder.close({ timeoutMs: 500 });
      const err = await stuck;
      expect(err).toBeInstanceOf(WriteFailedError);
      expect(err).toMatchObject({ kind: 'closed' });
    } finally {
      await blocker.query('rollback');
      await blocker.end();
    }
  });

  it('refuses at validation what the old writer retried forever or stored as something else, and keeps going', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const recorder = createRecorder({ databaseUrl: db.url, flushIntervalMs: 5 });
    const outcome = await recorder.recordPredictions(
      [
        prediction('v-date', { at: 8.64e15 + 1 }),
        prediction('v-deep', { prediction: deep }),
        prediction('v-nul', { errorCode: 'E\u00001' }),
        prediction('v-year0', { at: '0000-01-01T00:00:00Z' }),
        prediction('v-surrogate', { prediction: { label: 'a\ud800' } }),
        prediction('v-huge', { latencyMs: 1e308 }),
        prediction('v-ok'),
      ],
      { durable: true },
    );
    expect(outcome.accepted).toBe(1);
    expect(outcome.rejected.map((r) => [r.index, r.field])).toEqual([
      [0, 'at'],
      [1, expect.stringMatching(/^prediction(\.0)+$/)],
      [2, 'errorCode'],
      [3, 'at'],
      [4, 'prediction.label'],
      [5, 'latencyMs'],
    ]);
    const next = await recorder.recordPredictions([prediction('v-next')], { durable: true });
    expect(next.accepted).toBe(1);
    await recorder.close();
    expect(await db.knex('predictions').where('request_id', 'like', 'v-%').pluck('request_id')).toEqual(
      expect.arrayContaining(['v-ok', 'v-next']),
    );
  });

  it('counts every outcome once when predictions and their feedback are written at once by two recorders', async () => {
    // Two gateway replicas, one receiving predictions and one the feedback of the same requests at the same
    // moment: each write must see what the other committed, or the outcome is counted by neither. A trigger
    // that sleeps after each insert makes both inserts happen before either write reads the other side.
    await db.knex.raw(`create function test_slow_insert() returns trigger language plpgsql as
      $$ begin perform pg_sleep(0.5); return null; end $$`);
    for (const table of ['predictions', 'feedback'])
      await db.knex.raw(
        `create trigger test_slow after insert on ${table} for each statement execute function test_slow_insert()`,
      );
    const a = createRecorder({ databaseUrl: db.url, flushIntervalMs: 1 });
    const b = createRecorder({ databaseUrl: db.url, flushIntervalMs: 1 });
    try {
      const n = 50;
      // An hour no other test of this file writes to, so the rollups of its bucket are this test's alone.
      const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 3 * 3_600_000).toISOString();
      const ids = Array.from({ length: n }, (_, i) => `race-${i}`);
      const [p, f] = await Promise.all([
        a.recordPredictions(
          ids.map((id) => prediction(id, { prediction: 10, at })),
          { durable: true },
        ),
        b.recordFeedbackBatch(
          ids.map((id) => ({ model: MODEL, requestId: id, actual: 12, at })),
          { durable: true },
        ),
      ]);
      expect([p.accepted, f.accepted]).toEqual([n, n]);
      const { n: counted } = (await db
        .knex('metric_rollups')
        .where({ model: MODEL, metric: 'abs_error', bucket_start: new Date(at) })
        .sum({ n: 'count' })
        .first()) as { n: string };
      expect(Number(counted)).toBe(n);
    } finally {
      await Promise.all([a.close(), b.close()]);
      for (const table of ['predictions', 'feedback'])
        await db.knex.raw(`drop trigger test_slow on ${table}`);
      await db.knex.raw('drop function test_slow_insert()');
    }
  });
});
