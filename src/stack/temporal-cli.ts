import { existsSync } from 'node:fs';
import { chmod, copyFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.js';
import { UserFacingError } from '../errors.js';
import { buildGoCommand, findGo, isExecutable, whichOnPath } from './go-build.js';
import type { Progress } from './progress.js';

/** v1.5.1 is the newest tag whose go.mod has no replace directive; later tags refuse `go install`. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const CLI_MODULE = 'github.com/temporalio/cli';

export type CliSource =
  | 'TEMPORAL_CLI_PATH'
  | 'PATH'
  | 'project cache (.arena/bin)'
  | 'user cache'
  | 'built with go build in a throw-away module'
  | 'downloaded by @temporalio/testing';

export interface LocatedCli {
  path: string;
  source: CliSource;
  /** Why earlier candidates were skipped, so the user can tell which path was taken and why. */
  skipped: string[];
}

export interface LocateOptions {
  cliPathEnv?: string | undefined;
  arenaHome: string;
  cacheDir: string;
  log: Logger;
  progress: Progress;
  /** Test hook: the PATH to search (defaults to process.env.PATH). */
  searchPath?: string;
  /** Test hook: the download step (defaults to the one @temporalio/testing performs). */
  download?: (targetDir: string, opts: LocateOptions, skipped: string[]) => Promise<string | undefined>;
}

export function userCacheDir(cacheDir: string): string {
  return path.join(cacheDir, `temporal-${TEMPORAL_CLI_VERSION}`);
}

/**
 * Finds the Temporal CLI in the order of DESIGN.md §2 and builds it when nothing is found.
 * The build goes to the user-level cache keyed by version, which every clone shares, so CI's fresh clones
 * and `npm test` after the first run never rebuild it.
 */
export async function locateTemporalCli(opts: LocateOptions): Promise<LocatedCli> {
  const skipped: string[] = [];
  if (opts.cliPathEnv) {
    if (await isExecutable(opts.cliPathEnv))
      return { path: opts.cliPathEnv, source: 'TEMPORAL_CLI_PATH', skipped };
    throw new UserFacingError(
      `TEMPORAL_CLI_PATH=${opts.cliPathEnv} is not an executable file`,
      'Point TEMPORAL_CLI_PATH at a Temporal CLI binary, or unset it to let Arena find or build one.',
    );
  }
  skipped.push('TEMPORAL_CLI_PATH is not set');

  const onPath = await whichOnPath('temporal', opts.searchPath ?? process.env.PATH ?? '');
  if (onPath) return { path: onPath, source: 'PATH', skipped };
  skipped.push('no `temporal` on PATH');

  const projectCache = path.join(opts.arenaHome, 'bin', 'temporal');
  if (await isExecutable(projectCache))
    return { path: projectCache, source: 'project cache (.arena/bin)', skipped };
  skipped.push(`no ${projectCache}`);

  const userCache = path.join(userCacheDir(opts.cacheDir), 'temporal');
  if (await isExecutable(userCache)) return { path: userCache, source: 'user cache', skipped };
  skipped.push(`no ${userCache}`);

  // The download first: where the internet is reachable it takes seconds, and where it is not it fails within
  // milliseconds (a DNS error), so trying it costs an offline machine nothing before the minutes-long build.
  const download = opts.download ?? downloadWithTestingPackage;
  const downloaded = await download(userCacheDir(opts.cacheDir), opts, skipped);
  if (downloaded) return { path: downloaded, source: 'downloaded by @temporalio/testing', skipped };

  const go = await findGo(opts.searchPath);
  if (go) {
    const built = await buildWithGo(go, userCacheDir(opts.cacheDir), opts, skipped);
    if (built) return { ...built, skipped };
  } else {
    skipped.push('Go is not installed, so the CLI cannot be built here');
  }

  throw new UserFacingError(
    `Could not find, build or download the Temporal CLI:\n  - ${skipped.join('\n  - ')}`,
    'Install the Temporal CLI (https://docs.temporal.io/cli) and put it on PATH or set TEMPORAL_CLI_PATH, ' +
      'install Go ≥ 1.23 so Arena can build it, or point TEMPORAL_ADDRESS at a running Temporal server.',
  );
}

/** How long the first build took on this project's machines, said once before it starts. */
export const BUILD_ESTIMATE = "5–10 minutes on 2 cores (about 9½ minutes on the project's CI machines)";

/** Builds the CLI into the user cache (src/stack/go-build.ts), saying once how long it takes. */
async function buildWithGo(
  go: string,
  targetDir: string,
  opts: LocateOptions,
  skipped: string[],
): Promise<{ path: string; source: CliSource } | undefined> {
  opts.progress.info(
    `The Temporal CLI v${TEMPORAL_CLI_VERSION} is not installed or cached, and could not be downloaded; building it with Go into ${targetDir}. ` +
      `This happens once per user (every later run and every clone reuses it) and takes ${BUILD_ESTIMATE}. ` +
      'To do it ahead of time, run `npm run arena -- dev up` and read the README meanwhile.',
  );
  const built = await buildGoCommand(
    go,
    {
      label: `the Temporal CLI v${TEMPORAL_CLI_VERSION}`,
      pkg: `${CLI_MODULE}/cmd/temporal`,
      version: `v${TEMPORAL_CLI_VERSION}`,
      target: path.join(targetDir, 'temporal'),
    },
    opts.progress,
    skipped,
  );
  return built ? { path: built, source: 'built with go build in a throw-away module' } : undefined;
}

/**
 * Last resort on machines with internet access and no Go: @temporalio/testing downloads a CLI build.
 * The binary is copied into the user cache so later runs find it without the network.
 */
async function downloadWithTestingPackage(
  targetDir: string,
  opts: LocateOptions,
  skipped: string[],
): Promise<string | undefined> {
  const downloadDir = path.join(targetDir, 'download');
  opts.progress.start('Downloading the Temporal CLI through @temporalio/testing');
  try {
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'cached-download', downloadDir, version: `v${TEMPORAL_CLI_VERSION}` } },
    });
    await env.teardown();
    const found = (await readdir(downloadDir, { recursive: true }))
      .map((entry) => path.join(downloadDir, entry))
      .find((file) => path.basename(file).startsWith('temporal') && existsSync(file));
    if (!found) {
      skipped.push(`@temporalio/testing reported success but left no binary in ${downloadDir}`);
      return undefined;
    }
    const target = path.join(targetDir, 'temporal');
    await copyFile(found, target);
    await chmod(target, 0o755);
    opts.progress.succeed(`Downloaded the Temporal CLI into ${target}`);
    return target;
  } catch (err) {
    skipped.push(`download through @temporalio/testing failed: ${(err as Error).message.split('\n')[0]}`);
    return undefined;
  } finally {
    opts.progress.stop();
  }
}
