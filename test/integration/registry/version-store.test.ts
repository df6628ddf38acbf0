import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertModel } from '../../../src/registry/model-store.js';
import { parseVersion } from '../../../src/registry/version.js';
import {
  findVersion,
  insertCandidateVersion,
  updateVersionStatus,
  versionExists,
  versionLineage,
  versionStatuses,
  versionsOfModel,
  type VersionDetails,
} from '../../../src/registry/version-store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const details = (extra: Partial<VersionDetails> = {}): VersionDetails => ({
  artifact_uri: null,
  artifact_digest: null,
  training: {},
  metrics: {},
  parent_version: null,
  ...extra,
});

describe('model version store (real Postgres)', () => {
  let db: TestDatabase;
  const insert = (version: string, extra: Partial<VersionDetails> = {}, model = 'm') =>
    db.knex.transaction((trx) =>
      insertCandidateVersion(trx, {
        tenantId: 'default',
        model,
        parsed: parseVersion(version),
        details: details(extra),
      }),
    );
  beforeAll(async () => {
    db = await createTestDatabase('version_store');
    await db.knex.transaction(async (trx) => {
      for (const model of ['m', 'other']) await insertModel(trx, 'default', model, null);
    });
  });
  afterAll(async () => db?.drop());

  it('inserts a candidate once and finds it', async () => {
    const v = await insert('1.10.0', { training: { jobId: 'j1' }, metrics: { mae: 1 } });
    expect(v).toMatchObject({
      model: 'm',
      version: '1.10.0',
      status: 'candidate',
      training: { jobId: 'j1' },
    });
    expect(await insert('1.10.0', { metrics: { mae: 2 } })).toBeUndefined();
    expect(await findVersion(db.knex, 'default', 'm', '1.10.0')).toEqual(v);
    expect(await findVersion(db.knex, 'acme', 'm', '1.10.0')).toBeUndefined();
    expect(await db.knex.transaction((trx) => versionExists(trx, 'default', 'm', '1.10.0'))).toBe(true);
    expect(await db.knex.transaction((trx) => versionExists(trx, 'default', 'm', '9.0.0'))).toBe(false);
  });

  it('lists versions in semver order and their lineage', async () => {
    await insert('1.2.0');
    await insert('1.2.0-rc.1');
    await insert('2.0.0', {}, 'other');
    expect((await versionsOfModel(db.knex, 'default', 'm')).map((v) => v.version)).toEqual([
      '1.2.0',
      '1.2.0-rc.1',
      '1.10.0',
    ]);
    expect(
      (await versionLineage(db.knex, 'default', 'm')).sort((a, b) => a.version.localeCompare(b.version)),
    ).toEqual([
      { major: 1, minor: 10, version: '1.10.0', training: { jobId: 'j1' } },
      { major: 1, minor: 2, version: '1.2.0', training: {} },
      { major: 1, minor: 2, version: '1.2.0-rc.1', training: {} },
    ]);
  });

  it('changes a status and reports the statuses of the registered ones asked for', async () => {
    const before = (await findVersion(db.knex, 'default', 'm', '1.2.0'))!;
    const after = await db.knex.transaction((trx) =>
      updateVersionStatus(trx, 'default', 'm', '1.2.0', 'champion'),
    );
    expect(after.status).toBe('champion');
    expect(after.updatedAt.getTime()).toBeGreaterThanOrEqual(before.updatedAt.getTime());
    const statuses = await db.knex.transaction((trx) =>
      versionStatuses(trx, 'default', 'm', ['1.2.0', '1.10.0', '9.9.9']),
    );
    expect([...statuses.entries()].sort()).toEqual([
      ['1.10.0', 'candidate'],
      ['1.2.0', 'champion'],
    ]);
  });
});
