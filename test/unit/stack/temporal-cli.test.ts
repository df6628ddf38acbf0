import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { locateTemporalCli, userCacheDir } from '../../../src/stack/temporal-cli.js';
import { silentProgress } from '../../../src/stack/progress.js';
import { UserFacingError } from '../../../src/errors.js';

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
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
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

describe('getting the Temporal CLI when nothing is cached', () => {
  let root: string;
  let base: Parameters<typeof locateTemporalCli>[0];
  let lines: string[];
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'arena-cli-'));
    lines = [];
    const record = (kind: string) => (text: string) => lines.push(`${kind} ${text}`);
    base = {
      arenaHome: path.join(root, '.arena'),
      cacheDir: path.join(root, 'cache'),
      log: createLogger('silent'),
      progress: {
        start: record('start'),
        update: record('update'),
        succeed: record('succeed'),
        info: record('info'),
        stop: () => undefined,
      },
    };
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  /** A `go` that behaves like the real one for the three calls the build makes, and logs them. */
  async function fakeGo(dir: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const script = `#!/bin/sh
echo "$@" >> "${path.join(root, 'go-calls')}"
case "$1" in
  get) echo "go: downloading go.temporal.io/api v1.0.0" >&2; echo "go: downloading go.temporal.io/sdk v1.0.0" >&2 ;;
  list) printf 'runtime\\ngo.temporal.io/api\\ngithub.com/temporalio/cli/cmd/temporal\\n' ;;
  build) for p in runtime go.temporal.io/api github.com/temporalio/cli/cmd/temporal; do echo "$p" >&2; done
         printf '#!/bin/sh\\necho temporal\\n' > "$4"; chmod +x "$4" ;;
esac
`;
    await writeFile(path.join(dir, 'go'), script);
    await chmod(path.join(dir, 'go'), 0o755);
    return dir;
  }

  it('tries the download first, and a download that works means no build', async () => {
    const goDir = await fakeGo(path.join(root, 'gobin'));
    const found = await locateTemporalCli({
      ...base,
      searchPath: goDir,
      download: async (dir) => fakeBinary(path.join(dir, 'temporal')),
    });
    expect(found).toMatchObject({ source: 'downloaded by @temporalio/testing' });
    expect(existsSync(path.join(root, 'go-calls'))).toBe(false);
  });

  it('offline, builds with Go: says once how long it takes, then counts packages compiled of the total', async () => {
    const goDir = await fakeGo(path.join(root, 'gobin'));
    const found = await locateTemporalCli({
      ...base,
      searchPath: goDir,
      download: async (_dir, _opts, skipped) => {
        skipped.push('download failed: offline');
        return undefined;
      },
    });
    expect(found).toMatchObject({
      path: path.join(userCacheDir(base.cacheDir), 'temporal'),
      source: 'built with go build in a throw-away module',
    });
    expect(found.skipped).toContain('download failed: offline');
    const calls = (await readFile(path.join(root, 'go-calls'), 'utf8')).trim().split('\n');
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['get', 'list', 'build']);
    expect(lines.filter((l) => l.startsWith('info'))).toEqual([
      expect.stringMatching(/once per user.*takes 5–10 minutes on 2 cores/),
    ]);
    expect(lines).toContain('update 2 modules downloaded (go.temporal.io/sdk)');
    expect(lines).toContain('succeed 3 packages to compile');
    expect(lines).toContain('update 3 of 3 packages compiled (github.com/temporalio/cli/cmd/temporal)');
  });
});
