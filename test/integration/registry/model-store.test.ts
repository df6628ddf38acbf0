import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertModel,
  modelExists,
  modelMetadata,
  modelSummaries,
  storeTrainingConfig,
} from '../../../src/registry/model-store.js';
import { registerVersion } from '../../../src/registry/registry.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('model store (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('model_store');
  });
  afterAll(async () => db?.drop());

  it('registers a name once, keeping the first description', async () => {
    await db.knex.transaction((trx) => insertModel(trx, 'default', 'm', 'first'));
    await db.knex.transaction((trx) => insertModel(trx, 'default', 'm', 'second'));
    expect(await modelExists(db.knex, 'default', 'm')).toBe(true);
    expect(await modelExists(db.knex, 'acme', 'm')).toBe(false);
    expect(await db.knex('models').where({ name: 'm' }).select('description')).toEqual([
      { description: 'first' },
    ]);
  });

  it('reads metadata and replaces only its training key', async () => {
    expect(await modelMetadata(db.knex, 'default', 'm')).toEqual({});
    expect(await modelMetadata(db.knex, 'default', 'none')).toBeUndefined();
    await db
      .knex('models')
      .where({ name: 'm' })
      .update({ metadata: JSON.stringify({ monitoring: { a: 1 } }) });
    expect(await storeTrainingConfig(db.knex, 'default', 'm', { command: ['old'] })).toBe(true);
    expect(await storeTrainingConfig(db.knex, 'default', 'm', { command: ['train'] })).toBe(true);
    expect(await modelMetadata(db.knex, 'default', 'm')).toEqual({
      monitoring: { a: 1 },
      training: { command: ['train'] },
    });
    expect(await storeTrainingConfig(db.knex, 'default', 'none', {})).toBe(false);
  });

  it("summarises a tenant's models with their routing and version counts, by name", async () => {
    await registerVersion(db.knex, { model: 'b', version: '1.0.0', actor: 'ana' });
    await registerVersion(db.knex, { model: 'b', version: '1.1.0', actor: 'ana' });
    await registerVersion(db.knex, { model: 'a', version: '1.0.0', actor: 'ana', description: 'first' });
    await registerVersion(db.knex, { model: 'c', version: '1.0.0', actor: 'ana', tenantId: 'acme' });
    expect(await modelSummaries(db.knex, 'default')).toEqual([
      { model: 'a', description: 'first', champion: null, challenger: null, mode: 'off', versions: 1 },
      { model: 'b', description: null, champion: null, challenger: null, mode: 'off', versions: 2 },
    ]);
  });
});
