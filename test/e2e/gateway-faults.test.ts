import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKnex, type Knex } from '../../src/db/knex.js';
import { TENANT_ROLE } from '../../src/db/migrations/20261122000001_initial_schema.js';
import { migrateLatest } from '../../src/db/migrate.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import {
  createEmbeddedPostgresInstance,
  type EmbeddedPostgresInstance,
} from '../../src/stack/embedded-postgres-instance.js';
import { ensureDatabase } from '../../src/stack/postgres.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { spawnGatewayProcess, type GatewayExit, type GatewayProcess } from '../support/gateway-process.js';

/**
 * `arena gateway` as a process of its own against a real PostgreSQL that the tests take away: a write stuck
 * behind a lock at SIGTERM, a database that is down when the gateway starts, and one lost while it runs.
 * A 200 from the data endpoints means stored; anything the gateway could not store must be a 503 with a
 * hint (never a 200, never an opaque 500), and sending it again must count it once.
 *
 * The bounds below are behaviour ("within the configured deadline"), with generous margins: they do not
 * measure speed.
 */
const TENANT = 'zephyr';
const MODEL = 'lighthouse';
const TOKENS = {
  ingest: 'zephyr-ingest-token-0123456789',
  scraper: 'faults-metrics-token-0123456789',
};
const GRANTS = [
  { token: TOKENS.ingest, name: 'lamp-server', tenant: TENANT, roles: ['ingest'] },
  { token: TOKENS.scraper, name: 'prometheus', tenant: 'ops', roles: ['metrics'] },
];
/** What an unauthenticated caller must never see: the tenant, the model, or the database's own words. */
const PRIVATE = new RegExp(`${TENANT}|${MODEL}|ECONNREFUSED|127\\.0\\.0\\.1|terminat|postgres`, 'i');

interface PredictionRecord {
  requestId: string;
  model: string;
  version: string;
  prediction: number;
  latencyMs: number;
  error: boolean;
}

function batch(prefix: string, n: number): PredictionRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    requestId: `${prefix}-${i}`,
    model: MODEL,
    version: '1.0.0',
    prediction: i,
    latencyMs: 5 + i,
    error: i % 7 === 0,
  }));
}

interface Answer {
  /** The HTTP status, or 'closed' when the connection ended without an answer. */
  status: number | 'closed';
  body: Record<string, unknown>;
  text: string;
  retryAfter: string | null;
  ms: number;
}

async function call(base: string, path: string, token?: string, body?: unknown): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // /metrics is text
    }
    return {
      status: res.status,
      body: parsed,
      text,
      retryAfter: res.headers.get('retry-after'),
      ms: Date.now() - started,
    };
  } catch (err) {
    return { status: 'closed', body: {}, text: String(err), retryAfter: null, ms: Date.now() - started };
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until /healthz answers 200 again (the database is back) and returns that answer. */
function untilHealthzAnswers(base: string) {
  return until(
    '/healthz answers 200',
    async () => {
      const h = await call(base, '/healthz');
      return h.status === 200 && h;
    },
    30_000,
  );
}

/** An unavailable answer as the gateway must give it: 503, a reason, a hint, and when to come back. */
function expectUnavailable(answer: Answer, context: string): void {
  expect(answer.status, `${context}: ${answer.text}`).toBe(503);
  expect(answer.body.error, context).toEqual(expect.any(String));
  expect(answer.body.hint, context).toMatch(/send it again/i);
  expect(Number(answer.retryAfter), context).toBeGreaterThan(0);
}

/** Rows stored for the tenant's model and the predictions its `error` rollups count (each exactly once). */
async function storedAndCounted(knex: Knex): Promise<{ ids: string[]; counted: number }> {
  const ids = (
    await knex('predictions').where({ tenant_id: TENANT, model: MODEL }).pluck<string[]>('request_id')
  ).sort();
  const [row] = await knex('metric_rollups')
    .where({ tenant_id: TENANT, model: MODEL, metric: 'error' })
    .sum({ n: 'count' });
  return { ids, counted: Number((row as { n: string | null } | undefined)?.n ?? 0) };
}

async function registerModel(knex: Knex): Promise<void> {
  await registerVersion(knex, { tenantId: TENANT, model: MODEL, version: '1.0.0', actor: 'test' });
  await setChampion(knex, { tenantId: TENANT, model: MODEL, version: '1.0.0', actor: 'test' });
}

const gateways: GatewayProcess[] = [];
function startGateway(databaseUrl: string, env: Record<string, string>): GatewayProcess {
  const stack = inject('stack');
  // The suite's Temporal server: the gateway connects at start (rollout actions) and would wait out a 5 s
  // connect timeout on a closed port; none of these tests uses Temporal.
  const gateway = spawnGatewayProcess({
    databaseUrl,
    temporalAddress: stack.temporalAddress,
    namespace: stack.namespace,
    tokens: GRANTS,
    env,
  });
  gateways.push(gateway);
  return gateway;
}

/** Stops every gateway still running (SIGTERM, SIGKILL after 5 s): before a database or server goes. */
const stopGateways = (): Promise<unknown> => Promise.all(gateways.splice(0).map((g) => g.stop(5_000)));
afterAll(stopGateways);

describe('gateway: SIGTERM with a write in the database', () => {
  const SHUTDOWN_SECONDS = 3;
  /** The documented bound: the shutdown deadline, plus the hard exit 5 s after it, plus a margin. */
  const BOUND_MS = (SHUTDOWN_SECONDS + 6) * 1000;
  let db: TestDatabase;
  let locker: pg.Client | undefined;
  /** What the two scenarios saw, for the test of the clean stop at the end. */
  const seen: { stuck?: Outcome; finishing?: Outcome } = {};
  interface Outcome {
    exit: GatewayExit;
    answer: Answer;
    output: string;
  }

  const waitingForLock = async (): Promise<number> =>
    Number(
      (
        await db.knex.raw<{ rows: Array<{ n: string }> }>(
          `select count(*) as n from pg_stat_activity where datname = ? and wait_event_type = 'Lock'`,
          [db.name],
        )
      ).rows[0]!.n,
    );
  const lockPredictions = async (): Promise<void> => {
    locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('begin');
    await locker.query('lock table predictions in access exclusive mode');
  };
  const unlock = async (): Promise<void> => {
    await locker?.query('rollback');
    await locker?.end();
    locker = undefined;
  };
  /** Sends `records`, waits until their write waits for the lock, and sends SIGTERM. */
  const stopWithWriteInFlight = async (
    gateway: GatewayProcess,
    base: string,
    records: PredictionRecord[],
  ): Promise<{ signalledAt: number; answer: Promise<Answer> }> => {
    const answer = call(base, '/v1/predictions', TOKENS.ingest, records);
    // The write is waiting for the lock in PostgreSQL (not a guess with a sleep).
    await until('the gateway’s write waits for the lock', async () => (await waitingForLock()) > 0, 20_000);
    const signalledAt = Date.now();
    gateway.signal('SIGTERM');
    return { signalledAt, answer };
  };
  const exitWithin = async (gateway: GatewayProcess, signalledAt: number): Promise<GatewayExit> => {
    const exit = await Promise.race([
      gateway.exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), BOUND_MS + 10_000)),
    ]);
    expect(exit, `the gateway did not exit:\n${gateway.output().slice(-3_000)}`).toBeDefined();
    expect(exit!.at - signalledAt, gateway.output().slice(-3_000)).toBeLessThanOrEqual(BOUND_MS);
    // It ended by itself, not by a signal (the test sends no SIGKILL before the bound).
    expect(exit!.signal).toBeNull();
    return exit!;
  };

  beforeAll(async () => {
    db = await createTestDatabase('gateway_faults_sigterm');
    await registerModel(db.knex);
  });
  afterAll(async () => {
    await stopGateways();
    await locker?.end().catch(() => undefined);
    await db?.drop();
  });

  it('with a write stuck behind a lock: exits within the bound, never acknowledges it, and a new gateway stores it once', async () => {
    const first = startGateway(db.url, { ARENA_GATEWAY_SHUTDOWN_SECONDS: String(SHUTDOWN_SECONDS) });
    const base = await first.ready;
    // The gateway works, and knows the model (so the stuck batch passes validation without the database).
    const warm = await call(base, '/v1/predictions', TOKENS.ingest, batch('warm', 3));
    expect(warm.status, warm.text).toBe(200);

    await lockPredictions();
    const records = batch('stuck', 40);
    const { signalledAt, answer: pending } = await stopWithWriteInFlight(first, base, records);
    const exit = await exitWithin(first, signalledAt);
    const answer = await pending;
    seen.stuck = { exit, answer, output: first.output() };
    expect(answer.status, `the stuck batch was acknowledged: ${answer.text}`).not.toBe(200);
    if (answer.status !== 'closed') expectUnavailable(answer, 'the stuck batch');

    // Release the lock; the abandoned transaction of the old gateway's connection ends with it.
    await unlock();
    await until(
      'no backend of the old gateway is left in the database',
      async () =>
        Number(
          (
            await db.knex.raw<{ rows: Array<{ n: string }> }>(
              `select count(*) as n from pg_stat_activity
                 where datname = ? and pid <> pg_backend_pid() and state <> 'idle'`,
              [db.name],
            )
          ).rows[0]!.n,
        ) === 0,
      20_000,
    );
    const before = await storedAndCounted(db.knex);
    expect(before.ids.filter((id) => id.startsWith('stuck-'))).toEqual([]);
    expect(before.counted).toBe(3);

    const second = startGateway(db.url, {});
    const base2 = await second.ready;
    const stored = await call(base2, '/v1/predictions', TOKENS.ingest, records);
    expect(stored.status, stored.text).toBe(200);
    expect(stored.body).toMatchObject({ accepted: records.length, duplicates: 0, rejected: [] });
    const after = await storedAndCounted(db.knex);
    expect(after.ids.filter((id) => id.startsWith('stuck-'))).toEqual(records.map((r) => r.requestId).sort());
    expect(after.ids).toHaveLength(3 + records.length);
    expect(after.counted).toBe(3 + records.length);
    await second.stop();
  });

  it('with a write that completes during the shutdown: answers 200, stores it once, and exits within the bound', async () => {
    const gateway = startGateway(db.url, { ARENA_GATEWAY_SHUTDOWN_SECONDS: String(SHUTDOWN_SECONDS) });
    const base = await gateway.ready;
    const warm = await call(base, '/v1/predictions', TOKENS.ingest, batch('warm-finishing', 3));
    expect(warm.status, warm.text).toBe(200);
    const before = await storedAndCounted(db.knex);

    await lockPredictions();
    const records = batch('finishing', 25);
    const { signalledAt, answer: pending } = await stopWithWriteInFlight(gateway, base, records);
    // The gateway has begun to stop; now the database lets the write through, well before the deadline.
    await until('the gateway is stopping', async () => /gateway: stopping/.test(gateway.output()), 5_000);
    await unlock();
    const answer = await pending;
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ accepted: records.length, duplicates: 0, rejected: [] });
    const exit = await exitWithin(gateway, signalledAt);
    seen.finishing = { exit, answer, output: gateway.output() };

    const after = await storedAndCounted(db.knex);
    expect(after.ids.filter((id) => id.startsWith('finishing-'))).toEqual(
      records.map((r) => r.requestId).sort(),
    );
    expect(after.counted).toBe(before.counted + records.length);
  });

  // Fastify's close waits for every open connection before onClose hooks run; the gateway closes its
  // recorders in preClose (giving up stuck writes at the deadline, which answers them 503) and answers with
  // `Connection: close` while closing, so it stops by its own deadline, never by the hard exit.
  it('stops by its deadline, not by the hard exit: exit 0, and the given-up write answered 503', () => {
    expect(seen.stuck?.answer.status).toBe(503);
    expect(seen.stuck?.output).not.toMatch(/shutdown took too long/);
    expect(seen.stuck?.exit.code).toBe(0);
    expect(seen.finishing?.output).not.toMatch(/shutdown took too long/);
    expect(seen.finishing?.exit.code).toBe(0);
  });
});

describe('gateway: what an unauthenticated caller learns while a writer is degraded', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('gateway_faults_degraded');
    await registerModel(db.knex);
  });
  afterAll(async () => {
    await stopGateways();
    await db?.drop();
  });

  it('/healthz says that a writer is degraded, not whose; /metrics needs the metrics role', async () => {
    const gateway = startGateway(db.url, {});
    const base = await gateway.ready;
    const route = await call(base, '/v1/route', TOKENS.ingest, { model: MODEL, requestId: 'r-1' });
    expect(route.status, route.text).toBe(200);
    expect((await call(base, '/v1/predictions', TOKENS.ingest, batch('ok', 3))).status).toBe(200);

    // The database stays reachable but refuses the tenant's writes as a whole: the writer is failing.
    await db.knex.raw(`revoke insert on predictions from ${TENANT_ROLE}`);
    try {
      const refused = await call(base, '/v1/predictions', TOKENS.ingest, batch('refused', 3));
      // Not the database being away (503) but a refusal no record causes: a 500 that says what to check.
      expect(refused.status, refused.text).toBe(500);
      expect(refused.body.hint).toMatch(/role/);
      const own = await call(base, '/healthz', TOKENS.ingest);
      expect(own.body).toMatchObject({
        status: 'degraded',
        tenant: { id: TENANT, writer: { state: 'failing', reason: expect.stringMatching(/permission/) } },
      });

      const anonymous = await call(base, '/healthz');
      expect(anonymous.status, anonymous.text).toBe(200);
      expect(Object.keys(anonymous.body).sort()).toEqual(['database', 'routers', 'status', 'writers']);
      expect(anonymous.body).toEqual({
        status: 'degraded',
        database: { ok: true },
        writers: { total: 1, degraded: 1 },
        routers: { total: 1, degraded: 0 },
      });
      expect(anonymous.text).not.toMatch(PRIVATE);
      expect(anonymous.text).not.toMatch(/permission|lamp-server|prometheus/);

      const metricsAnonymous = await call(base, '/metrics');
      expect(metricsAnonymous.status).toBe(401);
      expect(metricsAnonymous.text).not.toMatch(PRIVATE);
      expect((await call(base, '/metrics', TOKENS.ingest)).status).toBe(403);
      const metrics = await call(base, '/metrics', TOKENS.scraper);
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(new RegExp(`arena_ingest_writer_degraded\\{tenant="${TENANT}"\\} 1`));
    } finally {
      await db.knex.raw(`grant insert on predictions to ${TENANT_ROLE}`);
    }

    const stored = await call(base, '/v1/predictions', TOKENS.ingest, batch('refused', 3));
    expect(stored.status, stored.text).toBe(200);
    expect(stored.body).toMatchObject({ accepted: 3, duplicates: 0 });
    const healthy = await call(base, '/healthz');
    expect(healthy.body).toMatchObject({ status: 'ok', writers: { total: 1, degraded: 0 } });
    expect(await storedAndCounted(db.knex)).toMatchObject({ counted: 6 });
  });
});

describe('gateway: PostgreSQL unreachable', () => {
  let server: EmbeddedPostgresInstance | undefined;
  let running = false;
  const knexes: Knex[] = [];

  const ensureRunning = async (): Promise<void> => {
    if (!running) await server!.start();
    running = true;
  };
  const stop = async (): Promise<void> => {
    // Pools of this test would otherwise hold connections the server is about to terminate.
    await Promise.all(knexes.splice(0).map((k) => k.destroy()));
    await server!.stop('fast');
    running = false;
  };
  const connect = (database: string): Knex => {
    const knex = createKnex(server!.url(database), { max: 2 });
    knexes.push(knex);
    return knex;
  };
  const createDatabase = async (database: string): Promise<string> => {
    await ensureRunning();
    const url = server!.url(database);
    await ensureDatabase(url);
    const knex = connect(database);
    await migrateLatest(knex);
    await registerModel(knex);
    return url;
  };

  beforeAll(async () => {
    server = await createEmbeddedPostgresInstance({ prefix: 'arena-gateway-faults-' });
    running = true;
  });
  afterAll(async () => {
    await stopGateways();
    await Promise.all(knexes.splice(0).map((k) => k.destroy().catch(() => undefined)));
    await server?.destroy();
  });

  it('starts with the database down, answers 503 with a hint within the retry bound, and recovers', async () => {
    const RETRY_SECONDS = 2;
    const database = 'arena_faults_start';
    const url = await createDatabase(database);
    await stop();

    const gateway = startGateway(url, { ARENA_INGEST_RETRY_SECONDS: String(RETRY_SECONDS) });
    // `arena gateway` needs no database to start: it listens and reports the database on /healthz.
    const base = await gateway.ready;

    const health = await call(base, '/healthz');
    expect(health.status, health.text).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', database: { ok: false } });
    expect(health.text).not.toMatch(PRIVATE);

    const predictions = await call(base, '/v1/predictions', TOKENS.ingest, batch('early', 5));
    expectUnavailable(predictions, 'predictions while the database is down');
    expect(predictions.ms).toBeLessThanOrEqual((RETRY_SECONDS + 8) * 1000);
    const feedback = await call(base, '/v1/feedback', TOKENS.ingest, [
      { model: MODEL, requestId: 'early-0', actual: 1 },
    ]);
    expectUnavailable(feedback, 'feedback while the database is down');
    expect(feedback.ms).toBeLessThanOrEqual((RETRY_SECONDS + 8) * 1000);
    expect(gateway.hasExited()).toBe(false);

    await ensureRunning();
    const recovered = await untilHealthzAnswers(base);
    // The database answers again; the writer, whose last registry read failed, stays degraded (and says so,
    // with the reason, to the tenant's token) until something succeeds.
    expect(recovered.body).toMatchObject({ status: 'degraded', database: { ok: true } });
    const own = await call(base, '/healthz', TOKENS.ingest);
    expect(own.body).toMatchObject({
      tenant: { writer: { state: 'failing', reason: expect.stringMatching(/model registry/) } },
    });

    const records = batch('early', 5);
    const stored = await call(base, '/v1/predictions', TOKENS.ingest, records);
    expect(stored.status, stored.text).toBe(200);
    expect(stored.body).toMatchObject({ accepted: 5, duplicates: 0, rejected: [] });
    expect((await call(base, '/healthz')).body).toMatchObject({ status: 'ok' });
    const { ids, counted } = await storedAndCounted(connect(database));
    expect(ids).toEqual(records.map((r) => r.requestId).sort());
    expect(counted).toBe(5);
    expect((await gateway.stop()).code).toBe(0);
  });

  it('loses the database mid-run: 503 (never 200) while it is gone, then stores every record exactly once', async () => {
    const RETRY_SECONDS = 2;
    const database = 'arena_faults_lost';
    const url = await createDatabase(database);
    const gateway = startGateway(url, { ARENA_INGEST_RETRY_SECONDS: String(RETRY_SECONDS) });
    const base = await gateway.ready;

    // The tenant has a router and a writer before the database goes.
    const route = await call(base, '/v1/route', TOKENS.ingest, { model: MODEL, requestId: 'r-1' });
    expect(route.status, route.text).toBe(200);
    const sent: Array<{ records: PredictionRecord[]; answer: Answer; afterStop: boolean }> = [];
    for (let i = 0; i < 3; i++) {
      const records = batch(`before-${i}`, 20);
      const answer = await call(base, '/v1/predictions', TOKENS.ingest, records);
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({ accepted: 20, duplicates: 0, rejected: [] });
      sent.push({ records, answer, afterStop: false });
    }

    // A model server keeps sending while the database goes away.
    let stopped = false;
    let sending = true;
    const sender = (async () => {
      for (let k = 0; sending; k++) {
        const records = batch(`during-${k}`, 10);
        const afterStop = stopped;
        const answer = await call(base, '/v1/predictions', TOKENS.ingest, records);
        sent.push({ records, answer, afterStop });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await until('the sender stores a batch', async () => sent.length >= 5, 20_000);

    await stop();
    stopped = true;
    await until(
      'two batches sent after the stop are answered',
      async () => sent.filter((s) => s.afterStop).length >= 2,
      60_000,
    );
    const health = await call(base, '/healthz', TOKENS.ingest);
    expect(health.status, health.text).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', tenant: { id: TENANT } });
    const writer = (health.body.tenant as { writer: { state: string; reason?: string; since?: string } })
      .writer;
    expect(['retrying', 'failing']).toContain(writer.state);
    expect(writer.reason).toEqual(expect.any(String));
    expect(writer.reason!.length).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(writer.since ?? ''))).toBe(false);
    sending = false;
    await sender;

    for (const s of sent.filter((x) => x.afterStop)) {
      expectUnavailable(s.answer, 'a batch sent after the database stopped');
      expect(s.answer.ms).toBeLessThanOrEqual((RETRY_SECONDS + 10) * 1000);
    }
    for (const s of sent) expect([200, 503], s.answer.text).toContain(s.answer.status);
    // Given up: the writer is failing now, and stays so until a write succeeds.
    const failing = await call(base, '/healthz', TOKENS.ingest);
    expect(failing.body).toMatchObject({ tenant: { writer: { state: 'failing' } } });

    // An unauthenticated caller learns that a writer is degraded, not whose.
    const anonymous = await call(base, '/healthz');
    expect(anonymous.status).toBe(503);
    expect(Object.keys(anonymous.body).sort()).toEqual(['database', 'routers', 'status', 'writers']);
    expect(anonymous.body).toMatchObject({
      status: 'unavailable',
      database: { ok: false },
      writers: { total: 1, degraded: 1 },
      routers: { total: 1 },
    });
    expect(anonymous.text).not.toMatch(PRIVATE);
    const metricsAnonymous = await call(base, '/metrics');
    expect(metricsAnonymous.status).toBe(401);
    expect(metricsAnonymous.text).not.toMatch(PRIVATE);
    expect((await call(base, '/metrics', TOKENS.ingest)).status).toBe(403);
    const metrics = await call(base, '/metrics', TOKENS.scraper);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(new RegExp(`arena_ingest_writer_degraded\\{tenant="${TENANT}"\\} 1`));

    await ensureRunning();
    const back = await untilHealthzAnswers(base);
    // The database is back but the writer has not written since it gave up: degraded, still naming nobody.
    expect(back.body).toMatchObject({ status: 'degraded', database: { ok: true }, writers: { degraded: 1 } });
    expect(Object.keys(back.body).sort()).toEqual(['database', 'routers', 'status', 'writers']);
    expect(back.text).not.toMatch(PRIVATE);

    // Every record that got a 200 is stored, and counted once.
    const knex = connect(database);
    const acknowledged = sent.filter((s) => s.answer.status === 200).flatMap((s) => s.records);
    let now = await storedAndCounted(knex);
    expect(new Set(now.ids).size).toBe(now.ids.length);
    expect(now.ids).toEqual(expect.arrayContaining(acknowledged.map((r) => r.requestId)));
    expect(now.counted).toBe(now.ids.length);

    // The refused batches, sent again, are stored (once), and the writer is ok after its first write.
    const refused = sent.filter((s) => s.answer.status !== 200);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const s of refused) {
      const again = await call(base, '/v1/predictions', TOKENS.ingest, s.records);
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ accepted: s.records.length, rejected: [] });
    }
    const healthy = await call(base, '/healthz', TOKENS.ingest);
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ status: 'ok', tenant: { id: TENANT, writer: { state: 'ok' } } });

    now = await storedAndCounted(knex);
    const all = sent.flatMap((s) => s.records.map((r) => r.requestId)).sort();
    expect(now.ids).toEqual(all);
    expect(now.counted).toBe(all.length);
    // Sending an acknowledged batch again changes nothing.
    const repeat = await call(base, '/v1/predictions', TOKENS.ingest, sent[0]!.records);
    expect(repeat.body).toMatchObject({ accepted: 20, duplicates: 20 });
    expect((await storedAndCounted(knex)).counted).toBe(all.length);
    expect((await gateway.stop()).code).toBe(0);
  });
});
