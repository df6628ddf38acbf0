import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../../src/db/audit.js';
import { InvalidInputError, RegistryError, UnknownModelError } from '../../../src/errors.js';
import {
  getVersion,
  listModels,
  registerVersion,
  setChampion,
  setVersionStatus,
  showModel,
} from '../../../src/registry/registry.js';
import {
  championAt,
  changeRouting,
  getRouting,
  ROUTING_CHANNEL,
  routingAt,
} from '../../../src/routing/store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('model registry and routing table on real Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('registry');
  });
  afterAll(async () => db?.drop());

  it('registers versions idempotently and refuses a different re-registration', async () => {
    const first = await registerVersion(db.knex, {
      model: 'demand',
      version: 'v2.1.0_20250818_142000',
      metrics: { mae: 12.5 },
      actor: 'alice',
    });
    expect(first).toMatchObject({
      created: true,
      version: { version: '2.1.0+20250818142000', status: 'candidate' },
    });
    const again = await registerVersion(db.knex, {
      model: 'demand',
      version: '2.1.0+20250818142000',
      metrics: { mae: 12.5 },
      actor: 'alice',
    });
    expect(again.created).toBe(false);
    await expect(
      registerVersion(db.knex, {
        model: 'demand',
        version: '2.1.0+20250818142000',
        metrics: { mae: 13 },
        actor: 'alice',
      }),
    ).rejects.toThrow(/already registered with a different metrics/);
    await expect(
      registerVersion(db.knex, { model: 'demand', version: '2.2', actor: 'alice' }),
    ).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      registerVersion(db.knex, { model: 'bad name!', version: '1.0.0', actor: 'alice' }),
    ).rejects.toThrow('model="bad name!"');
    await expect(
      registerVersion(db.knex, { model: 'demand', version: '3.0.0', parentVersion: '9.9.9', actor: 'a' }),
    ).rejects.toThrow(/parentVersion/);
    await registerVersion(db.knex, {
      model: 'demand',
      version: '2.2.0',
      parentVersion: '2.1.0+20250818142000',
      artifactUri: 'file:///m/2.2.0.json',
      actor: 'alice',
    });
    await registerVersion(db.knex, { model: 'demand', version: '2.3.0-rc.1', actor: 'alice' });
    const shown = await showModel(db.knex, 'demand');
    expect(shown.versions.map((v) => v.version)).toEqual(['2.1.0+20250818142000', '2.2.0', '2.3.0-rc.1']);
    expect(shown.versions[1]).toMatchObject({
      parentVersion: '2.1.0+20250818142000',
      artifactUri: 'file:///m/2.2.0.json',
    });
    expect(shown.routing).toMatchObject({ champion: null, mode: 'off', generation: 1 });
  });

  it('sets the champion, archiving the previous one, and answers "who was champion at T"', async () => {
    const t0 = new Date();
    await setChampion(db.knex, { model: 'demand', version: '2.1.0+20250818142000', actor: 'alice' });
    await new Promise((r) => setTimeout(r, 20));
    const t1 = new Date();
    await new Promise((r) => setTimeout(r, 20));
    await changeRouting(db.knex, {
      model: 'demand',
      change: { challenger: '2.2.0', mode: 'canary', weightBp: 500 },
      actor: 'bob',
    });
    await setChampion(db.knex, {
      model: 'demand',
      version: '2.2.0',
      actor: 'carol',
      reason: 'emergency override',
    });

    const routing = await getRouting(db.knex, 'demand');
    expect(routing).toMatchObject({
      champion: '2.2.0',
      challenger: null,
      mode: 'off',
      weightBp: 0,
      generation: 4,
    });
    expect((await getVersion(db.knex, 'demand', '2.1.0+20250818142000')).status).toBe('archived');
    expect((await getVersion(db.knex, 'demand', '2.2.0')).status).toBe('champion');

    expect(await championAt(db.knex, 'demand', new Date(t0.getTime() - 60_000))).toBeNull();
    expect(await championAt(db.knex, 'demand', t1)).toBe('2.1.0+20250818142000');
    expect(await championAt(db.knex, 'demand', new Date())).toBe('2.2.0');
    expect(await routingAt(db.knex, 'demand', t1)).toMatchObject({ generation: 2, mode: 'off' });

    const models = await listModels(db.knex);
    expect(models).toEqual([expect.objectContaining({ model: 'demand', champion: '2.2.0', versions: 3 })]);
  });

  it('refuses illegal status transitions naming the legal ones', async () => {
    const attempt = db.knex.transaction((trx) =>
      setVersionStatus(trx, { model: 'demand', version: '2.2.0', to: 'candidate', actor: 'x' }),
    );
    await expect(attempt).rejects.toThrow(/cannot go from champion to candidate/);
    await expect(attempt).rejects.toMatchObject({
      code: 'illegal_transition',
      hint: expect.stringContaining('archived'),
    });
  });

  it('bumps the generation with a history row and an audit row in one transaction, and announces it', async () => {
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const notices: string[] = [];
    listener.on('notification', (m) => notices.push(m.payload ?? ''));
    await listener.query(`LISTEN ${ROUTING_CHANNEL}`);
    try {
      const before = await getRouting(db.knex, 'demand');
      const after = await changeRouting(db.knex, {
        model: 'demand',
        change: {
          challenger: '2.3.0-rc.1',
          mode: 'shadow',
          segmentOverrides: [{ key: 'store', value: '42', version: '2.1.0+20250818142000' }],
        },
        actor: 'dave',
        reason: 'shadow test',
      });
      expect(after.generation).toBe(before.generation + 1);
      const history = await db
        .knex('routing_history')
        .where({ model: 'demand', generation: after.generation })
        .first();
      expect(history).toMatchObject({
        changed_by: 'dave',
        reason: 'shadow test',
        mode: 'shadow',
        challenger: '2.3.0-rc.1',
      });
      const audit = await db
        .knex('audit_log')
        .where({ action: 'routing.change', entity_id: 'demand' })
        .orderBy('id', 'desc')
        .first();
      expect(audit.details.after.generation).toBe(after.generation);
      await expect.poll(() => notices.length, { timeout: 5000 }).toBeGreaterThan(0);
      expect(JSON.parse(notices.at(-1)!)).toEqual({
        tenantId: 'default',
        model: 'demand',
        generation: after.generation,
      });

      // A failing change leaves nothing behind: no generation bump, no history, no audit row.
      const auditCount = await db.knex('audit_log').count({ n: '*' }).first();
      await expect(
        changeRouting(db.knex, {
          model: 'demand',
          change: { challenger: '7.7.7', mode: 'canary', weightBp: 100 },
          actor: 'eve',
        }),
      ).rejects.toThrow('challenger="7.7.7"');
      expect((await getRouting(db.knex, 'demand')).generation).toBe(after.generation);
      expect(await db.knex('audit_log').count({ n: '*' }).first()).toEqual(auditCount);
    } finally {
      await listener.end();
    }
  });

  it('applies a change once per idempotency key (retried activities)', async () => {
    const before = await getRouting(db.knex, 'demand');
    const change = {
      model: 'demand',
      change: { mode: 'off' as const },
      actor: 'worker',
      idempotencyKey: 'rollout-1:route:3',
    };
    const a = await changeRouting(db.knex, change);
    const b = await changeRouting(db.knex, change);
    expect(a.generation).toBe(before.generation + 1);
    expect(b.generation).toBe(a.generation);
  });

  it('rejects invalid weights, modes and versions with the field and the value', async () => {
    const bad = (change: Record<string, unknown>) =>
      changeRouting(db.knex, { model: 'demand', change: change as never, actor: 'x' });
    await expect(bad({ mode: 'canary', challenger: '2.3.0-rc.1', weightBp: 10001 })).rejects.toThrow(
      'weightBp=10001',
    );
    await expect(bad({ mode: 'canary', challenger: '2.3.0-rc.1', weightBp: 2.5 })).rejects.toThrow(
      'weightBp=2.5',
    );
    await expect(bad({ mode: 'blue' })).rejects.toThrow('mode="blue"');
    await expect(bad({ mode: 'canary', challenger: null })).rejects.toThrow(/canary mode needs a challenger/);
    await expect(bad({ mode: 'shadow', challenger: '2.3.0-rc.1', weightBp: 500 })).rejects.toThrow(
      /weight applies only in canary mode/,
    );
    await expect(bad({ challenger: '2.2.0', mode: 'canary' })).rejects.toThrow(
      /must differ from the champion/,
    );
    await expect(bad({ unknownField: 1 })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(
      changeRouting(db.knex, { model: 'nope', change: { mode: 'off' }, actor: 'x' }),
    ).rejects.toBeInstanceOf(UnknownModelError);
    await expect(getVersion(db.knex, 'demand', '9.9.9')).rejects.toBeInstanceOf(RegistryError);
  });

  it('keeps the audit chain intact through all of it', async () => {
    expect((await verifyAuditChain(db.knex)).ok).toBe(true);
  });
});
