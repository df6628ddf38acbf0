import { createHash } from 'node:crypto';
import path from 'node:path';

/**
 * Where the embedded PostgreSQL's binaries and data directory go: a pure decision, given whether the
 * `postgres` user can reach the places the project would use.
 *
 * PostgreSQL refuses to run as root, so a root process runs it as the `postgres` user. That user must be
 * able to enter every directory above the binaries and the data directory. A clone in a private directory
 * (mode 0700: /root/…, a `mktemp -d` directory) denies it both, so as root the binaries are copied to a
 * shared runtime directory outside the project, keyed by the platform package and its version, and the
 * data directory moves next to them, keyed by the project. Without root nothing moves: the server runs as
 * the user, from node_modules, on .arena/pg.
 */

/** Shared by every clone on the machine; /var/tmp survives reboots, unlike /tmp on many systems. */
export const DEFAULT_RUNTIME_ROOT = '/var/tmp/arena-postgres';

/** The shared copy of a platform package's native/ tree, e.g. linux-x64-18.4.0-beta.17. */
export function runtimeKey(platform: string, version: string): string {
  return `${platform}-${version}`;
}

/** First 12 hex digits of sha256 of the project's real ARENA_HOME path: one data directory per project. */
export function projectKey(realArenaHome: string): string {
  return createHash('sha256').update(realArenaHome).digest('hex').slice(0, 12);
}

/** The data directory of a project whose ARENA_HOME the postgres user cannot reach. */
export function outsideDataDir(runtimeRoot: string, realArenaHome: string): string {
  return path.join(runtimeRoot, `data-${projectKey(realArenaHome)}`);
}

export interface BinariesChoice {
  /** The directory holding bin/, lib/ and share/. */
  nativeDir: string;
  /** Set when nativeDir is the shared copy: the package's native/ tree it is copied from. */
  copyFrom: string | undefined;
}

export function chooseBinaries(input: {
  /** This process is root, so the server runs as the postgres user. */
  runAsPostgres: boolean;
  /** The platform package's native/ directory. */
  packageNativeDir: string;
  /** Can the postgres user execute the package's binaries where they are? */
  postgresReachesPackage: boolean;
  runtimeRoot: string;
  runtimeKey: string;
}): BinariesChoice {
  if (!input.runAsPostgres || input.postgresReachesPackage) {
    return { nativeDir: input.packageNativeDir, copyFrom: undefined };
  }
  return { nativeDir: path.join(input.runtimeRoot, input.runtimeKey), copyFrom: input.packageNativeDir };
}

export interface DataDirChoice {
  dataDir: string;
  /** True when the data directory is outside the project because the postgres user cannot reach it. */
  outsideProject: boolean;
}

export function chooseDataDir(input: {
  runAsPostgres: boolean;
  /** ARENA_HOME as configured (absolute). */
  arenaHome: string;
  /** Its real path (symlinks resolved), which keys the outside directory. */
  realArenaHome: string;
  /** Can the postgres user enter ARENA_HOME? */
  postgresReachesArenaHome: boolean;
  runtimeRoot: string;
}): DataDirChoice {
  if (!input.runAsPostgres || input.postgresReachesArenaHome) {
    return { dataDir: path.join(input.arenaHome, 'pg'), outsideProject: false };
  }
  return { dataDir: outsideDataDir(input.runtimeRoot, input.realArenaHome), outsideProject: true };
}

/** Where a throw-away server's temporary data directory goes: the temp directory, or the runtime root. */
export function chooseScratchParent(input: {
  runAsPostgres: boolean;
  tmpdir: string;
  postgresReachesTmpdir: boolean;
  runtimeRoot: string;
}): string {
  return !input.runAsPostgres || input.postgresReachesTmpdir ? input.tmpdir : input.runtimeRoot;
}

export interface PostgresLayout extends BinariesChoice, DataDirChoice {}

/** Both decisions at once, for the stack's server. */
export function choosePostgresLayout(input: {
  runAsPostgres: boolean;
  packageNativeDir: string;
  runtimeRoot: string;
  runtimeKey: string;
  arenaHome: string;
  realArenaHome: string;
  postgresReaches: { packageBinaries: boolean; arenaHome: boolean };
}): PostgresLayout {
  return {
    ...chooseBinaries({ ...input, postgresReachesPackage: input.postgresReaches.packageBinaries }),
    ...chooseDataDir({ ...input, postgresReachesArenaHome: input.postgresReaches.arenaHome }),
  };
}
