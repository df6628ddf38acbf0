import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile, constants } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { UserFacingError } from '../user-error.js';
import type { Progress } from './progress.js';

/** v1.5.1 is the newest tag whose go.mod has no replace directive; later tags refuse `go install`. */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const CLI_MODULE = 'github.com/temporalio/cli';

export type CliSource =
  | 'TEMPORAL_CLI_PATH'
  | 'PATH'
  | 'project cache (.arena/bin)'
  | 'user cache'
  | 'built with go install'
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
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function whichOnPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
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

  const go = await whichOnPath('go', opts.searchPath ?? `${process.env.PATH ?? ''}:/usr/local/go/bin`);
  if (go) {
    const built = await buildWithGo(go, userCacheDir(opts.cacheDir), opts, skipped);
    if (built) return { ...built, skipped };
  } else {
    skipped.push('Go is not installed, so the CLI cannot be built here');
  }

  const downloaded = await downloadWithTestingPackage(userCacheDir(opts.cacheDir), opts, skipped);
  if (downloaded) return { path: downloaded, source: 'downloaded by @temporalio/testing', skipped };

  throw new UserFacingError(
    `Could not find, build or download the Temporal CLI:\n  - ${skipped.join('\n  - ')}`,
    'Install the Temporal CLI (https://docs.temporal.io/cli) and put it on PATH or set TEMPORAL_CLI_PATH, ' +
      'install Go ≥ 1.23 so Arena can build it, or point TEMPORAL_ADDRESS at a running Temporal server.',
  );
}

async function buildWithGo(
  go: string,
  targetDir: string,
  opts: LocateOptions,
  skipped: string[],
): Promise<{ path: string; source: CliSource } | undefined> {
  await mkdir(targetDir, { recursive: true });
  const target = path.join(targetDir, 'temporal');
  opts.progress.start(
    `Building the Temporal CLI v${TEMPORAL_CLI_VERSION} with Go (first run only, takes minutes)`,
  );
  try {
    const installed = await runGo(
      go,
      ['install', `${CLI_MODULE}/cmd/temporal@v${TEMPORAL_CLI_VERSION}`],
      { cwd: os.tmpdir(), env: { GOBIN: targetDir } },
      opts.progress,
    );
    if (installed.ok && (await isExecutable(target))) {
      opts.progress.succeed(`Built the Temporal CLI into ${target} with go install`);
      return { path: target, source: 'built with go install' };
    }
    skipped.push(`go install failed: ${installed.tail}`);
    opts.log.warn(
      { output: installed.tail },
      'go install refused; trying a throw-away module with go get + go build',
    );

    // A throw-away module sidesteps go install's refusal of modules with replace directives.
    const work = await mkdtemp(path.join(os.tmpdir(), 'arena-temporal-build-'));
    try {
      await writeFile(path.join(work, 'go.mod'), 'module arenatemporalbuild\n\ngo 1.23\n');
      await writeFile(
        path.join(work, 'tools.go'),
        `//go:build tools\n\npackage tools\n\nimport _ "${CLI_MODULE}/cmd/temporal"\n`,
      );
      const got = await runGo(
        go,
        ['get', `${CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`],
        { cwd: work },
        opts.progress,
      );
      const built = got.ok
        ? await runGo(go, ['build', '-o', target, `${CLI_MODULE}/cmd/temporal`], { cwd: work }, opts.progress)
        : got;
      if (built.ok && (await isExecutable(target))) {
        opts.progress.succeed(`Built the Temporal CLI into ${target} in a throw-away module`);
        return { path: target, source: 'built with go build in a throw-away module' };
      }
      skipped.push(`go get + go build failed: ${built.tail}`);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  } finally {
    opts.progress.stop();
  }
  return undefined;
}

interface GoResult {
  ok: boolean;
  tail: string;
}

function runGo(
  go: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
  progress: Progress,
): Promise<GoResult> {
  return new Promise((resolve) => {
    const child = spawn(go, args, {
      cwd: options.cwd,
      env: { ...process.env, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const onData = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        lines.push(line);
        if (lines.length > 40) lines.shift();
        progress.update(line.trim());
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => resolve({ ok: false, tail: err.message }));
    child.on('close', (code) => resolve({ ok: code === 0, tail: lines.slice(-8).join('\n') }));
  });
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
      server: { executable: { type: 'cached-download', downloadDir } },
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
