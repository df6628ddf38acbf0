import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import {
  changeRouting,
  findRouting,
  lockRouting,
  routingGenerations,
  routingHistoryDuring,
} from '../../../src/routing/store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('routing store reads (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('routing_store');
    for (const version of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'm', version, actor: 'ana' });
    await registerVersion(db.knex, { model: 'n', version: '1.0.0', actor: 'ana' });
  });
  afterAll(async () => db?.drop());

  it('finds a routing row or nothing, and lists generations', async () => {
    expect(await findRouting(db.knex, 'm')).toMatchObject({ model: 'm', mode: 'off', generation: 1 });
    expect(await findRouting(db.knex, 'none')).toBeUndefined();
    expect(await findRouting(db.knex, 'm', 'acme')).toBeUndefined();
    await setChampion(db.knex, { model: 'm', version: '1.0.0', actor: 'ana' });
    expect(
      (await routingGenerations(db.knex, 'default')).sort((a, b) => a.model.localeCompare(b.model)),
    ).toEqual([
      { model: 'm', generation: 2 },
      { model: 'n', generation: 1 },
    ]);
    expect(await routingGenerations(db.knex, 'acme')).toEqual([]);
  });

  it('locks a row until the transaction ends', async () => {
    await db.knex.transaction(async (trx) => {
      expect(await lockRouting(trx, 'default', 'm')).toMatchObject({ model: 'm', champion: '1.0.0' });
      const other = await db.knex.transaction(async (t2) => {
        await t2.raw(`set local lock_timeout = '100ms'`);
        return lockRouting(t2, 'default', 'm').then(
          () => 'got it',
          (err: Error) => err.message,
        );
      });
      expect(other).toMatch(/lock timeout/);
    });
    expect(await db.knex.transaction((trx) => lockRouting(trx, 'default', 'none'))).toBeUndefined();
  });

  it('reads the routing in force at the start of a period and every change in it', async () => {
    await new Promise((r) => setTimeout(r, 20));
    const start = new Date();
    await changeRouting(db.knex, {
      model: 'm',
      actor: 'bo',
      reason: 'canary',
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 500 },
    });
    const end = new Date();
    const rows = await routingHistoryDuring(db.knex, 'default', 'm', start, end);
    expect(
      rows
        .map((r) => [
          Number(r.generation),
          r.champion,
          r.challenger,
          r.mode,
          r.weight_bp,
          r.changed_by,
          r.reason,
        ])
        .sort((a, b) => Number(a[0]) - Number(b[0])),
    ).toEqual([
      [2, '1.0.0', null, 'off', 0, 'ana', 'champion set to 1.0.0'],
      [3, '1.0.0', '1.1.0', 'canary', 500, 'bo', 'canary'],
    ]);
    expect(rows.every((r) => r.at instanceof Date && Array.isArray(r.shadow))).toBe(true);
    // Nothing before the model existed, only the changes of the period.
    expect(
      (await routingHistoryDuring(db.knex, 'default', 'm', new Date(0), new Date(0))).map((r) =>
        Number(r.generation),
      ),
    ).toEqual([]);
  });
});
