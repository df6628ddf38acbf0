import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { createRouter, type Router } from '../../../src/routing/router.js';
import { changeRouting, getRouting } from '../../../src/routing/store.js';
import { decide, type RoutingEntry } from '../../../src/routing/table.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import {
  DEFAULT_REQUEST_ID,
  spawnRouterProcess,
  type RouterProcess,
  type RouterProcessLine,
} from '../../support/router-process.js';

/**
 * Propagation of routing changes to two routers in separate processes through Postgres LISTEN/NOTIFY
 * (DESIGN.md §4). The children poll only once an hour, so a change can reach them within the test's bounded
 * waits through NOTIFY alone: a router that missed notifications would time out, not pass by polling.
 */
const MODEL = 'demand';
const NO_POLLING_MS = 3_600_000;
const WAIT_MS = 10_000;

describe('routers in two separate processes', () => {
  let db: TestDatabase;
  let children: RouterProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('router_processes');
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
      await registerVersion(db.knex, { model: MODEL, version, actor: 'test' });
    }
    await setChampion(db.knex, { model: MODEL, version: '1.0.0', actor: 'test' });
    children = [
      spawnRouterProcess(db.url, MODEL, { pollIntervalMs: NO_POLLING_MS }),
      spawnRouterProcess(db.url, MODEL, { pollIntervalMs: NO_POLLING_MS }),
    ];
    await Promise.all(children.map((c) => c.waitFor((l) => l.event === 'ready', 60_000)));
  });

  afterAll(async () => {
    await Promise.all(children.map((c) => c.stop()));
    await db?.drop();
  });

  /** Both children report `generation` and serve what decide() says for the table now in the database. */
  async function expectBothServe(entry: RoutingEntry, serve: string): Promise<void> {
    const expected = decide(entry, DEFAULT_REQUEST_ID);
    expect(expected.serve).toBe(serve);
    const seen = await Promise.all(
      children.map((c) => c.waitFor((l) => l.generation === entry.generation, WAIT_MS)),
    );
    for (const line of seen) {
      expect(line).toMatchObject({
        model: MODEL,
        generation: entry.generation,
        serve: expected.serve,
        via: expected.via,
        bucket: expected.bucket,
        shadow: expected.shadow,
        error: null,
      });
    }
  }

  it('start from the committed table, listening, in two distinct processes', async () => {
    const entry = await getRouting(db.knex, MODEL);
    const ready = children.map((c) => c.lines.find((l) => l.event === 'ready')!);
    expect(new Set(ready.map((l) => l.pid)).size).toBe(2);
    expect(ready.map((l) => l.pid)).not.toContain(process.pid);
    for (const line of ready) {
      expect(line).toMatchObject({ generation: entry.generation, serve: '1.0.0', listening: true });
    }
  });

  it('both serve the challenger once a 100% canary is committed', async () => {
    const entry = await changeRouting(db.knex, {
      model: MODEL,
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 10_000 },
      actor: 'test',
    });
    await expectBothServe(entry, '1.1.0');
  });

  it('both go back to the champion when the rollout is switched off, then follow setChampion', async () => {
    const off = await changeRouting(db.knex, { model: MODEL, change: { mode: 'off' }, actor: 'test' });
    await expectBothServe(off, '1.0.0');
    const promoted = await setChampion(db.knex, { model: MODEL, version: '1.2.0', actor: 'test' });
    expect(promoted.generation).toBe(off.generation + 1);
    await expectBothServe(promoted, '1.2.0');
  });

  it('both end on the last of a burst of changes committed back to back, never going backwards', async () => {
    let last: RoutingEntry | undefined;
    // Weights chosen so that the fixed request changes side during the burst and the final one is known.
    const bucketOfRequest = decide(await getRouting(db.knex, MODEL), DEFAULT_REQUEST_ID).bucket;
    const weights = [0, 10_000, 0, 5_000, 2_500, 10_000, 1, 9_999, 7_500, bucketOfRequest + 1];
    for (const weightBp of weights) {
      last = await changeRouting(db.knex, {
        model: MODEL,
        change: { challenger: '1.1.0', mode: 'canary', weightBp },
        actor: 'test',
      });
    }
    // The fixed request's bucket is below the final weight: the challenger serves it.
    await expectBothServe(last!, '1.1.0');
    for (const child of children) {
      const generations = child.lines.map((l: RouterProcessLine) => l.generation);
      const sorted = [...generations].sort((a, b) => a - b);
      expect(generations).toEqual(sorted);
      expect(new Set(generations).size).toBe(generations.length);
    }
  });

  it('switch to shadow mode together: champion served, challenger named as shadow; an in-process router agrees', async () => {
    // A router in this process agrees with the children on every one of a sample of ids.
    const router: Router = await createRouter({ databaseUrl: db.url, pollIntervalMs: NO_POLLING_MS });
    try {
      const entry = await changeRouting(db.knex, {
        model: MODEL,
        change: { mode: 'shadow', weightBp: 0 },
        actor: 'test',
      });
      await expectBothServe(entry, '1.2.0');
      const seen = children.map((c) => c.lines.find((l) => l.generation === entry.generation)!);
      for (const line of seen) expect(line.shadow).toEqual(['1.1.0']);
      const deadline = Date.now() + WAIT_MS;
      while (router.entry(MODEL)?.generation !== entry.generation && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(router.entry(MODEL)?.generation).toBe(entry.generation);
      for (let i = 0; i < 1_000; i++) {
        expect(router.route(MODEL, `r-${i}`)).toEqual(decide(entry, `r-${i}`));
      }
    } finally {
      await router.close();
    }
  });
});

describe('observed split through a router on the real routing table', () => {
  let db: TestDatabase;
  let router: Router | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('router_split');
    for (const version of ['1.0.0', '1.1.0']) {
      await registerVersion(db.knex, { model: MODEL, version, actor: 'test' });
    }
    await setChampion(db.knex, { model: MODEL, version: '1.0.0', actor: 'test' });
  });

  afterAll(async () => {
    await router?.close();
    await db?.drop();
  });

  it('serves 5% of 100,000 ids from the challenger (6 sigma) and keeps them there at 50%', async () => {
    router = await createRouter({ databaseUrl: db.url, pollIntervalMs: NO_POLLING_MS });
    const r = router;
    const ramp = async (weightBp: number): Promise<Set<string>> => {
      const entry = await changeRouting(db.knex, {
        model: MODEL,
        change: { challenger: '1.1.0', mode: 'canary', weightBp },
        actor: 'test',
      });
      const deadline = Date.now() + WAIT_MS;
      while (r.entry(MODEL)?.generation !== entry.generation && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(r.entry(MODEL)).toEqual(entry);
      const served = new Set<string>();
      for (let i = 0; i < 100_000; i++) {
        const id = `req-${i}`;
        if (r.route(MODEL, id).serve === '1.1.0') served.add(id);
      }
      return served;
    };
    const n = 100_000;
    const at5 = await ramp(500);
    const sigma5 = Math.sqrt(n * 0.05 * 0.95);
    expect(Math.abs(at5.size - n * 0.05)).toBeLessThanOrEqual(6 * sigma5);
    const at50 = await ramp(5_000);
    const sigma50 = Math.sqrt(n * 0.5 * 0.5);
    expect(Math.abs(at50.size - n * 0.5)).toBeLessThanOrEqual(6 * sigma50);
    expect([...at5].filter((id) => !at50.has(id))).toEqual([]);
  });
});
