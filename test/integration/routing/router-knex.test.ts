import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { createRouter, type Router } from '../../../src/routing/router.js';
import { changeRouting } from '../../../src/routing/store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('createRouter({ knex }) shares the application’s knex', () => {
  let db: TestDatabase;
  let router: Router;
  beforeAll(async () => {
    db = await createTestDatabase('router_knex');
    await registerVersion(db.knex, { model: 'm', version: '1.0.0', actor: 't' });
    await registerVersion(db.knex, { model: 'm', version: '1.1.0', actor: 't' });
    await setChampion(db.knex, { model: 'm', version: '1.0.0', actor: 't' });
    // Polling only hourly: the change below can arrive through LISTEN alone.
    router = await createRouter({ knex: db.knex, pollIntervalMs: 3_600_000 });
  });
  afterAll(async () => {
    await router?.close();
    await db?.drop();
  });

  it('listens with the same settings (password included) and applies a change', async () => {
    await expect.poll(() => router.health().listening, { timeout: 10_000 }).toBe(true);
    expect(router.route('m', 'r1').serve).toBe('1.0.0');
    await changeRouting(db.knex, {
      model: 'm',
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 10_000 },
      actor: 't',
    });
    await expect.poll(() => router.route('m', 'r1').serve, { timeout: 10_000 }).toBe('1.1.0');
  });
});
