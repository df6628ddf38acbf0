import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { changeRouting } from '../../src/routing/store.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('arena audit verify | log on a ledger of its own', () => {
  // A database of its own: this test tampers with the ledger, which must never touch the shared one.
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase('audit_cli');
    env = { DATABASE_URL: db.url };
    for (const model of ['fraud', 'churn']) {
      await registerVersion(db.knex, { model, version: '1.0.0', actor: 'alice' });
      await registerVersion(db.knex, { model, version: '1.1.0', actor: 'bob', parentVersion: '1.0.0' });
      await setChampion(db.knex, { model, version: '1.0.0', actor: 'carol', reason: 'bootstrap' });
    }
    await changeRouting(db.knex, {
      model: 'fraud',
      actor: 'dave',
      reason: 'manual canary after review #42',
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 500 },
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('answers who did what to a model, on which evidence', async () => {
    const r = await runCli(['audit', 'log', '--model', 'fraud', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{
      actor: string;
      action: string;
      entity: string;
      evidence: string;
    }>;
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows.every((x) => x.entity.includes('fraud'))).toBe(true);
    expect(rows.map((x) => x.actor)).toEqual(expect.arrayContaining(['alice', 'bob', 'carol', 'dave']));
    expect(rows.find((x) => x.actor === 'dave')?.evidence).toContain('manual canary after review #42');

    const byDave = await runCli(['audit', 'log', '--actor', 'dave', '--since', '1h'], env);
    expect(byDave.code, byDave.stderr).toBe(0);
    expect(byDave.stdout).toContain('dave');
    expect(byDave.stdout).not.toContain('alice');
    const bad = await runCli(['audit', 'log', '--since', 'yesterday'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--since="yesterday"');
  });

  it('verify passes on an intact ledger and names the first row edited by SQL', async () => {
    const ok = await runCli(['audit', 'verify', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    const intact = JSON.parse(ok.stdout) as { ok: boolean; checked: number };
    expect(intact.ok).toBe(true);
    const total = Number((await db.knex('audit_log').count({ n: '*' }))[0]!.n);
    expect(intact.checked).toBe(total);

    // Someone rewrites history: carol's bootstrap of churn now claims to be mallory's.
    const target = (await db
      .knex('audit_log')
      .where({ actor: 'carol', entity_id: 'churn@1.0.0' })
      .first('id')) as { id: number | string };
    await db.knex('audit_log').where({ id: target.id }).update({ actor: 'mallory' });

    const broken = await runCli(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`Audit ledger BROKEN at row ${target.id}`);
    expect(broken.stdout).toMatch(/the row was edited/);
    const json = JSON.parse((await runCli(['audit', 'verify', '--json'], env)).stdout) as {
      ok: boolean;
      firstBad: { id: number };
    };
    expect(json).toMatchObject({ ok: false, firstBad: { id: Number(target.id) } });
  });
});
