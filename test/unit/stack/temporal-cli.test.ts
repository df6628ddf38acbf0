import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { locateTemporalCli, userCacheDir } from '../../../src/stack/temporal-cli.js';
import { silentProgress } from '../../../src/stack/progress.js';
import { UserFacingError } from '../../../src/user-error.js';

async function fakeBinary(file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, '#!/bin/sh\necho fake\n');
  await chmod(file, 0o755);
  return file;
}

describe('locateTemporalCli follows the order of DESIGN.md §2', () => {
  let root: string;
  let base: {
    arenaHome: string;
    cacheDir: string;
    log: ReturnType<typeof createLogger>;
    progress: typeof silentProgress;
  };
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'arena-cli-'));
    base = {
      arenaHome: path.join(root, '.arena'),
      cacheDir: path.join(root, 'cache'),
      log: createLogger('silent'),
      progress: silentProgress,
    };
  });

  it('TEMPORAL_CLI_PATH wins, and a wrong one is a clear error', async () => {
    const explicit = await fakeBinary(path.join(root, 'explicit', 'temporal'));
    await fakeBinary(path.join(root, 'onpath', 'temporal'));
    const found = await locateTemporalCli({
      ...base,
      cliPathEnv: explicit,
      searchPath: path.join(root, 'onpath'),
    });
    expect(found).toMatchObject({ path: explicit, source: 'TEMPORAL_CLI_PATH' });

    const wrong = locateTemporalCli({ ...base, cliPathEnv: path.join(root, 'missing'), searchPath: '' });
    await expect(wrong).rejects.toBeInstanceOf(UserFacingError);
    await expect(wrong).rejects.toThrow(/TEMPORAL_CLI_PATH=.*missing is not an executable/);
  });

  it('then PATH, then the project cache, then the user cache, and says what it skipped', async () => {
    const userCache = await fakeBinary(path.join(userCacheDir(base.cacheDir), 'temporal'));
    const emptyPath = path.join(root, 'empty');
    let found = await locateTemporalCli({ ...base, searchPath: emptyPath });
    expect(found).toMatchObject({ path: userCache, source: 'user cache' });
    expect(found.skipped).toEqual(
      expect.arrayContaining(['TEMPORAL_CLI_PATH is not set', 'no `temporal` on PATH']),
    );

    const project = await fakeBinary(path.join(base.arenaHome, 'bin', 'temporal'));
    found = await locateTemporalCli({ ...base, searchPath: emptyPath });
    expect(found).toMatchObject({ path: project, source: 'project cache (.arena/bin)' });

    const onPath = await fakeBinary(path.join(root, 'onpath', 'temporal'));
    found = await locateTemporalCli({ ...base, searchPath: path.join(root, 'onpath') });
    expect(found).toMatchObject({ path: onPath, source: 'PATH' });
  });
});
