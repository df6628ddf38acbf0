import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKnex, type Knex } from '../../../src/db/knex.js';
import { migrateLatest } from '../../../src/db/migrate.js';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { createRouter, type Router } from '../../../src/routing/router.js';
import { changeRouting } from '../../../src/routing/store.js';
import { decide, type RoutingEntry } from '../../../src/routing/table.js';
import {
  createEmbeddedPostgresInstance,
  type EmbeddedPostgresInstance,
} from '../../../src/stack/embedded-postgres-instance.js';
import { ensureDatabase } from '../../../src/stack/postgres.js';

/**
 * A router surviving a Postgres restart (DESIGN.md §4: it keeps serving its last table while Postgres is
 * unreachable and learns of changes again once it is back). The test runs its own throw-away PostgreSQL on a
 * free port and a temporary data directory, so stopping it touches neither the suite's stack nor the
 * machine's server.
 *
 * Two routers watch it: `polling` polls every 200 ms, `listening` polls once an hour, so it can only learn
 * of the change made after the restart by reconnecting its LISTEN connection.
 */
const MODEL = 'demand';
const DATABASE = 'arena_router_restart';

async function until(what: string, condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a router across a Postgres restart', () => {
  let pg: EmbeddedPostgresInstance | undefined;
  let url: string;
  let knex: Knex | undefined;
  const routers: Router[] = [];
  let polling: Router;
  let listening: Router;
  let beforeStop: RoutingEntry;

  beforeAll(async () => {
    pg = await createEmbeddedPostgresInstance({ prefix: 'arena-router-restart-' });
    url = pg.url(DATABASE);
    await ensureDatabase(url);
    knex = createKnex(url, { max: 2 });
    await migrateLatest(knex);
    for (const version of ['1.0.0', '1.1.0']) {
      await registerVersion(knex, { model: MODEL, version, actor: 'test' });
    }
    await setChampion(knex, { model: MODEL, version: '1.0.0', actor: 'test' });
    polling = await createRouter({ databaseUrl: url, pollIntervalMs: 200 });
    listening = await createRouter({ databaseUrl: url, pollIntervalMs: 3_600_000 });
    routers.push(polling, listening);
  });

  afterAll(async () => {
    for (const router of routers) await router.close().catch(() => undefined);
    await knex?.destroy().catch(() => undefined);
    await pg?.destroy();
  });

  it('learns of a change while Postgres is up', async () => {
    expect(polling.health().listening).toBe(true);
    expect(listening.health().listening).toBe(true);
    beforeStop = await changeRouting(knex!, {
      model: MODEL,
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 10_000 },
      actor: 'test',
    });
    for (const router of routers) {
      await until(
        'the canary is applied',
        () => router.entry(MODEL)?.generation === beforeStop.generation,
        10_000,
      );
      expect(router.route(MODEL, 'r-1').serve).toBe('1.1.0');
    }
  });

  it('keeps serving its last table while Postgres is down', async () => {
    // The test's own pool would otherwise hold connections the server is about to terminate.
    await knex!.destroy();
    knex = undefined;
    await pg!.stop('fast');
    for (const router of routers) {
      await until('the router notices the lost connection', () => !router.health().listening, 10_000);
    }
    // Let the polling router fail a few polls against the stopped server.
    await until('a poll fails', () => /polling/.test(polling.health().lastError ?? ''), 10_000);
    for (const router of routers) {
      expect(router.health().lastError).toBeDefined();
      expect(router.entry(MODEL)).toEqual(beforeStop);
      for (let i = 0; i < 1_000; i++) {
        expect(router.route(MODEL, `r-${i}`)).toEqual(decide(beforeStop, `r-${i}`));
      }
    }
    expect(() => polling.route('no-such-model', 'r-1')).toThrow(/Unknown model/);
  });

  it('picks up a change committed after Postgres restarts on the same port and data directory', async () => {
    await pg!.start();
    knex = createKnex(url, { max: 2 });
    const after = await changeRouting(knex, { model: MODEL, change: { mode: 'off' }, actor: 'test' });
    expect(after.generation).toBe(beforeStop.generation + 1);
    // Polling every 200 ms, or the reconnected LISTEN (backoff up to 5 s), whichever comes first.
    await until(
      'the polling router applies it',
      () => polling.entry(MODEL)?.generation === after.generation,
      20_000,
    );
    // The listening router polls once an hour: only its reconnected LISTEN (and the catch-up load that follows
    // the reconnect) can bring it the change.
    await until(
      'the listening router applies it',
      () => listening.entry(MODEL)?.generation === after.generation,
      20_000,
    );
    for (const router of routers) {
      expect(router.entry(MODEL)).toEqual(after);
      expect(router.route(MODEL, 'r-1')).toMatchObject({ serve: '1.0.0', via: 'champion' });
      await until('the router listens again', () => router.health().listening, 20_000);
    }
  });

  it('receives later changes through the reconnected LISTEN connection', async () => {
    await until('the listening router listens again', () => listening.health().listening, 20_000);
    const next = await changeRouting(knex!, {
      model: MODEL,
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 10_000 },
      actor: 'test',
    });
    await until('the change arrives', () => listening.entry(MODEL)?.generation === next.generation, 10_000);
    expect(listening.route(MODEL, 'r-1')).toMatchObject({ serve: '1.1.0', generation: next.generation });
    expect(listening.health().lastError).toBeUndefined();
  });
});
