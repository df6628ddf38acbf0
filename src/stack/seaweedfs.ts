import path from 'node:path';
import { UserFacingError } from '../errors.js';
import { buildGoCommand, findGo, isExecutable } from './go-build.js';
import type { Progress } from './progress.js';

/**
 * SeaweedFS, the S3-compatible server the S3 artifact store is tested against (Apache-2.0, built from Go
 * modules like the Temporal CLI, since no binary can be downloaded here). A pseudo-version: the project
 * tags releases in its own scheme (`4.53`), which the Go module proxy does not serve as module versions.
 */
export const SEAWEEDFS_VERSION = 'v0.0.0-20261109003541-7506e5f91cd6';
const PKG = 'github.com/seaweedfs/seaweedfs/weed';

/** How long the first build took here: said once before it starts. */
export const SEAWEEDFS_BUILD_ESTIMATE = 'about 10 minutes on 2 cores (2½ to download, 8 to compile)';

export function seaweedfsCacheDir(cacheDir: string): string {
  return path.join(cacheDir, `seaweedfs-${SEAWEEDFS_VERSION.slice(-12)}`);
}

/**
 * `weed` from ARENA_SEAWEEDFS_PATH, else the user cache (shared by every clone), else built there with Go.
 * Only the S3 store's tests need it; nothing in a deployment does.
 */
export async function locateSeaweedfs(opts: {
  pathEnv?: string | undefined;
  cacheDir: string;
  progress: Progress;
}): Promise<string> {
  if (opts.pathEnv) {
    if (await isExecutable(opts.pathEnv)) return opts.pathEnv;
    throw new UserFacingError(
      `ARENA_SEAWEEDFS_PATH=${opts.pathEnv} is not an executable file`,
      'Point it at a SeaweedFS `weed` binary, or unset it to let Arena build one.',
    );
  }
  const target = path.join(seaweedfsCacheDir(opts.cacheDir), 'weed');
  if (await isExecutable(target)) return target;
  const skipped: string[] = [];
  const go = await findGo();
  if (go) {
    opts.progress.info(
      `SeaweedFS (for the S3 artifact store's tests) is not cached; building it with Go into ${path.dirname(target)}. ` +
        `This happens once per user and takes ${SEAWEEDFS_BUILD_ESTIMATE}.`,
    );
    const built = await buildGoCommand(
      go,
      { label: `SeaweedFS ${SEAWEEDFS_VERSION}`, pkg: PKG, version: SEAWEEDFS_VERSION, target },
      opts.progress,
      skipped,
    );
    if (built) return built;
  } else skipped.push('Go is not installed');
  throw new UserFacingError(
    `Could not build SeaweedFS: ${skipped.join('; ')}`,
    'Install Go ≥ 1.23 (it builds SeaweedFS from the Go module proxy), or set ARENA_SEAWEEDFS_PATH to a `weed` binary.',
  );
}
