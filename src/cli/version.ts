import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadEnv } from '../config/env.js';
import { arenaVersion } from '../package-version.js';
import { readState } from '../stack/state.js';
import { connectClient, temporalTargetFromEnv } from '../temporal/connection.js';

const execFileAsync = promisify(execFile);

export interface VersionReport {
  arena: string;
  node: string;
  /** The Temporal CLI the local stack runs (`temporal --version`), when `arena dev up` recorded one. */
  temporalCli: string | null;
  /** The Temporal server's own version, when one answers at TEMPORAL_ADDRESS or the stack's address. */
  temporalServer: string | null;
  /** PostgreSQL's server_version, when DATABASE_URL or the stack's database answers. */
  postgres: string | null;
}

/**
 * Arena's version, and the versions of what it talks to when they are up. Each probe is short and
 * independent: a stack that is down shows null for its parts, never an error.
 */
export async function versionReport(): Promise<VersionReport> {
  const env = loadEnv();
  const state = await readState(env.arenaHome);
  // Older state files hold a description ending in "(path)" rather than the path itself.
  const recorded = state.temporal?.cli;
  const cli = recorded?.startsWith('/') ? recorded : /\((\/[^)]+)\)$/.exec(recorded ?? '')?.[1];
  const temporalCli = cli
    ? await execFileAsync(cli, ['--version'], { timeout: 5_000 }).then(
        ({ stdout }) => stdout.trim(),
        () => null,
      )
    : null;
  const address = env.TEMPORAL_ADDRESS ?? state.temporal?.address;
  const temporalServer = address
    ? await (async () => {
        const connection = await connectClient(temporalTargetFromEnv(env, address), 2_000).catch(() => null);
        if (!connection) return null;
        try {
          const info = await connection.workflowService.getSystemInfo({});
          return info.serverVersion || null;
        } catch {
          return null;
        } finally {
          await connection.close().catch(() => undefined);
        }
      })()
    : null;
  const url = env.DATABASE_URL ?? state.postgres?.url;
  const postgres = url
    ? await (async () => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
        client.on('error', () => undefined);
        try {
          await client.connect();
          const { rows } = await client.query<{ server_version: string }>('show server_version');
          return rows[0]?.server_version ?? null;
        } catch {
          return null;
        } finally {
          await client.end().catch(() => undefined);
        }
      })()
    : null;
  return { arena: arenaVersion(), node: process.version, temporalCli, temporalServer, postgres };
}

export function formatVersionReport(r: VersionReport): string {
  const or = (v: string | null, none: string): string => v ?? none;
  return [
    `arena ${r.arena} (node ${r.node})`,
    `temporal cli:    ${or(r.temporalCli, 'not started by `arena dev up`')}`,
    `temporal server: ${or(r.temporalServer, 'not reachable')}`,
    `postgresql:      ${or(r.postgres, 'not reachable')}`,
  ].join('\n');
}
