import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, mkdtemp, readdir, rm, writeFile, constants } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../log.js';
import { UserFacingError } from '../errors.js';
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

  // The download first: where the internet is reachable it takes seconds, and where it is not it fails within
  // milliseconds (a DNS error), so trying it costs an offline machine nothing before the minutes-long build.
  const download = opts.download ?? downloadWithTestingPackage;
  const downloaded = await download(userCacheDir(opts.cacheDir), opts, skipped);
  if (downloaded) return { path: downloaded, source: 'downloaded by @temporalio/testing', skipped };

  const go = await whichOnPath('go', opts.searchPath ?? `${process.env.PATH ?? ''}:/usr/local/go/bin`);
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

/**
 * Builds the CLI in a throw-away module: `go get` of the command's package (what `go install pkg@version`
 * would resolve, since the module requires nothing else), `go list -deps` for the packages not in Go's build
 * cache, then `go build -v`, which prints each package as it compiles, so progress is "k of N packages",
 * not the last line Go printed. (`go install …@version` cannot be listed beforehand: `go list` refuses the
 * @version syntax.)
 */
async function buildWithGo(
  go: string,
  targetDir: string,
  opts: LocateOptions,
  skipped: string[],
): Promise<{ path: string; source: CliSource } | undefined> {
  await mkdir(targetDir, { recursive: true });
  const target = path.join(targetDir, 'temporal');
  const pkg = `${CLI_MODULE}/cmd/temporal`;
  opts.progress.info(
    `The Temporal CLI v${TEMPORAL_CLI_VERSION} is not installed or cached, and could not be downloaded; building it with Go into ${targetDir}. ` +
      `This happens once per user (every later run and every clone reuses it) and takes ${BUILD_ESTIMATE}. ` +
      'To do it ahead of time, run `npm run arena -- dev up` and read the README meanwhile.',
  );
  const work = await mkdtemp(path.join(os.tmpdir(), 'arena-temporal-build-'));
  try {
    await writeFile(path.join(work, 'go.mod'), 'module arenatemporalbuild\n\ngo 1.23\n');
    await writeFile(path.join(work, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport _ "${pkg}"\n`);

    opts.progress.start(`Downloading the Go modules of the Temporal CLI v${TEMPORAL_CLI_VERSION}`);
    let modules = 0;
    const got = await runGo(go, ['get', `${pkg}@v${TEMPORAL_CLI_VERSION}`], { cwd: work }, (line) => {
      const m = /^go: downloading (\S+)/.exec(line);
      if (m) opts.progress.update(`${++modules} modules downloaded (${m[1]})`);
    });
    if (!got.ok) {
      skipped.push(`go get ${pkg}@v${TEMPORAL_CLI_VERSION} failed: ${got.tail}`);
      return undefined;
    }
    opts.progress.succeed(
      `Downloaded the Go modules of the Temporal CLI (${modules} fetched, the rest cached)`,
    );

    opts.progress.start('Working out which packages need compiling');
    const stale: string[] = [];
    const listed = await runGo(
      go,
      ['list', '-deps', '-f', '{{if .Stale}}{{.ImportPath}}{{end}}', pkg],
      { cwd: work },
      (line) => stale.push(line.trim()),
    );
    const total = listed.ok ? stale.length : undefined;
    opts.progress.succeed(
      total === undefined ? 'Could not list the packages; compiling' : `${total} packages to compile`,
    );

    opts.progress.start(`Compiling the Temporal CLI v${TEMPORAL_CLI_VERSION}`);
    let compiled = 0;
    const built = await runGo(go, ['build', '-v', '-o', target, pkg], { cwd: work }, (line) => {
      // -v prints one import path per compiled package; anything else (errors) goes to the tail.
      if (/^[\w.\-/]+$/.test(line.trim())) {
        compiled += 1;
        opts.progress.update(
          `${compiled}${total !== undefined ? ` of ${total}` : ''} packages compiled (${line.trim()})`,
        );
      }
    });
    if (built.ok && (await isExecutable(target))) {
      opts.progress.succeed(`Built the Temporal CLI into ${target} (${compiled} packages compiled)`);
      return { path: target, source: 'built with go build in a throw-away module' };
    }
    skipped.push(`go build failed: ${built.tail}`);
    return undefined;
  } finally {
    opts.progress.stop();
    await rm(work, { recursive: true, force: true });
  }
}

interface GoResult {
  ok: boolean;
  tail: string;
}

function runGo(
  go: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
  onLine: (line: string) => void,
): Promise<GoResult> {
  return new Promise((resolve) => {
    const child = spawn(go, args, {
      cwd: options.cwd,
      env: { ...process.env, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let partial = '';
    const onData = (chunk: Buffer): void => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        if (!line.trim()) continue;
        lines.push(line);
        if (lines.length > 40) lines.shift();
        onLine(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => resolve({ ok: false, tail: err.message }));
    child.on('close', (code) => {
      if (partial.trim()) {
        lines.push(partial);
        onLine(partial);
      }
      resolve({ ok: code === 0, tail: lines.slice(-8).join('\n') });
    });
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
