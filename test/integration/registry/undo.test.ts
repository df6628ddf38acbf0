import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateLatest } from '../../../src/db/migrate.js';
import { migrationSource } from '../../../src/db/migrations/index.js';
import { UserFacingError } from '../../../src/errors.js';
import { modelHealth } from '../../../src/health/model-health.js';
import { getVersion, registerVersion, setChampion } from '../../../src/registry/registry.js';
import { undoChampion } from '../../../src/registry/undo.js';
import { updateRetrainJobStatus } from '../../../src/retrain/job-store.js';
import { getRouting } from '../../../src/routing/store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** `arena model undo`, and the times people ask for: `promoted_at` on versions, `deployed_at` on jobs. */
/** Migrations after 20261204000011, rolled back before it and applied again after it. */
const LATER = [
  '20261204000012_champion_monitor',
  '20261204000013_time_partitions',
  '20261205000014_requests_key_order',
];

describe('undo a promotion, and when versions were promoted and retrains deployed', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('undo');
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function model(name: string, versions: string[]): Promise<void> {
    for (const version of versions) await registerVersion(db.knex, { model: name, version, actor: 'setup' });
  }

  it('keeps when each version last became champion', async () => {
    await model('times', ['1.0.0', '1.1.0']);
    expect((await getVersion(db.knex, 'times', '1.0.0')).promotedAt).toBeNull();
    const before = Date.now();
    await setChampion(db.knex, { model: 'times', version: '1.0.0', actor: 'setup' });
    const first = (await getVersion(db.knex, 'times', '1.0.0')).promotedAt!;
    expect(first.getTime()).toBeGreaterThanOrEqual(before - 1000);
    await setChampion(db.knex, { model: 'times', version: '1.1.0', actor: 'setup' });
    const archived = await getVersion(db.knex, 'times', '1.0.0');
    expect([archived.status, archived.promotedAt]).toEqual(['archived', first]);
    const health = await modelHealth(db.knex, 'times');
    expect(health.champion?.promotedAt).toBe(
      (await getVersion(db.knex, 'times', '1.1.0')).promotedAt!.toISOString(),
    );
  });

  it('restores the previous champion in one step, archives the current one, and audits it', async () => {
    await model('undo', ['1.0.0', '1.1.0', '1.2.0']);
    for (const version of ['1.0.0', '1.1.0', '1.2.0'])
      await setChampion(db.knex, { model: 'undo', version, actor: 'setup' });
    const undone = await undoChampion(db.knex, { model: 'undo', actor: 'olga', reason: 'bad week' });
    expect([undone.from, undone.to]).toEqual(['1.2.0', '1.1.0']);
    expect((await getRouting(db.knex, 'undo')).champion).toBe('1.1.0');
    expect((await getVersion(db.knex, 'undo', '1.2.0')).status).toBe('archived');
    expect((await getVersion(db.knex, 'undo', '1.1.0')).status).toBe('champion');
    const audit = await db.knex('audit_log').where({ action: 'model.undo', entity_id: 'undo' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor: 'olga',
      details: { from: '1.2.0', to: '1.1.0', reason: 'bad week' },
    });

    // Undoing again goes back to the champion before 1.1.0 in the history: 1.2.0 (the newest other one).
    expect((await undoChampion(db.knex, { model: 'undo', actor: 'olga', reason: 'again' })).to).toBe('1.2.0');
    expect(
      (await undoChampion(db.knex, { model: 'undo', to: '1.0.0', actor: 'olga', reason: 'oldest' })).to,
    ).toBe('1.0.0');
  });

  it('refuses with a hint: no earlier champion, a running rollout, the champion itself, a rejected version', async () => {
    await model('lonely', ['1.0.0', '1.1.0']);
    await setChampion(db.knex, { model: 'lonely', version: '1.0.0', actor: 'setup' });
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as UserFacingError,
      );
    const none = await refusal(undoChampion(db.knex, { model: 'lonely', actor: 'o', reason: 'r' }));
    expect([none?.message, none?.hint]).toEqual([
      'lonely has had no champion before 1.0.0',
      'Name the version to restore: arena model undo lonely --to VERSION',
    ]);
    const self = await refusal(
      undoChampion(db.knex, { model: 'lonely', to: '1.0.0', actor: 'o', reason: 'r' }),
    );
    expect(self?.message).toMatch(/to=.*1\.0\.0.*already the champion/);

    await db
      .knex('model_versions')
      .where({ model: 'lonely', version: '1.1.0' })
      .update({ status: 'rejected' });
    const rejected = await refusal(
      undoChampion(db.knex, { model: 'lonely', to: '1.1.0', actor: 'o', reason: 'r' }),
    );
    expect(rejected?.message).toMatch(/rejected/);
    expect((await getRouting(db.knex, 'lonely')).champion).toBe('1.0.0');

    await db.knex('rollouts').insert({
      id: 'lonely-run',
      model: 'lonely',
      champion: '1.0.0',
      challenger: '1.1.0',
      state: 'canary',
      policy: '{}',
      proposed_by: 'x',
      workflow_id: 'w',
    });
    const busy = await refusal(
      undoChampion(db.knex, { model: 'lonely', to: '1.1.0', actor: 'o', reason: 'r' }),
    );
    expect(busy?.hint).toBe(
      'Abort it instead, which restores the previous champion: arena rollout abort lonely-run --by WHO --reason TEXT',
    );
  });

  it('a completed retraining job was deployed when its candidate became champion', async () => {
    await model('retrained', ['1.0.0', '1.1.0']);
    await setChampion(db.knex, { model: 'retrained', version: '1.0.0', actor: 'setup' });
    await db.knex('retraining_jobs').insert({
      id: 'job-1',
      model: 'retrained',
      trigger: 'manual',
      status: 'deploying',
      backend: 'process',
      candidate_version: '1.1.0',
    });
    await setChampion(db.knex, { model: 'retrained', version: '1.1.0', actor: 'rollout' });
    await db.knex.transaction((trx) => updateRetrainJobStatus(trx, 'job-1', { status: 'completed' }));
    const job = await db.knex('retraining_jobs').where({ id: 'job-1' }).first();
    const promotedAt = (await getVersion(db.knex, 'retrained', '1.1.0')).promotedAt!;
    expect(job.deployed_at).toEqual(promotedAt);
    const health = await modelHealth(db.knex, 'retrained');
    expect(health.retrain).toMatchObject({
      jobId: 'job-1',
      status: 'completed',
      candidateVersion: '1.1.0',
      deployedAt: promotedAt.toISOString(),
    });
  });

  it('the migration fills promoted_at from the routing history and deployed_at from it', async () => {
    // Back to the schema before it, with the times gone, then forward again.
    for (let i = 0; i < LATER.length + 1; i++)
      await db.knex.migrate.down({ migrationSource, tableName: 'knex_migrations' });
    expect(await migrateLatest(db.knex)).toEqual(['20261204000011_lifecycle_times', ...LATER]);
    const champion = async (m: string, v: string) => (await getVersion(db.knex, m, v)).promotedAt;
    const history = async (m: string, v: string) =>
      (
        await db
          .knex('routing_history')
          .where({ model: m, champion: v })
          .orderBy('generation', 'desc')
          .first('at')
      ).at as Date;
    // 1.1.0 of "undo" was champion twice (generations 2 and 4): the latest run counts.
    expect(await champion('undo', '1.1.0')).toEqual(await history('undo', '1.1.0'));
    expect(await champion('times', '1.1.0')).toEqual(await history('times', '1.1.0'));
    expect(await champion('lonely', '1.1.0')).toBeNull();
    const job = await db.knex('retraining_jobs').where({ id: 'job-1' }).first();
    expect(job.deployed_at).toEqual(await champion('retrained', '1.1.0'));
  });
});
