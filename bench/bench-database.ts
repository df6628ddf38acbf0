import { randomBytes } from 'node:crypto';
import { loadEnv } from '../src/config/env.js';
import { createKnex, type Knex } from '../src/db/knex.js';
import { migrateLatest } from '../src/db/migrate.js';
import { createLogger } from '../src/log.js';
import { ensureStack, stopStarted } from '../src/stack/index.js';
import { silentProgress } from '../src/stack/progress.js';
import { ensureDatabase } from '../src/stack/postgres.js';

export interface BenchDatabase {
  url: string;
  knex: Knex;
  drop(): Promise<void>;
}

/**
 * A throw-away database on the stack's server (DATABASE_URL or the embedded one, brought up if needed):
 * benchmarks never touch a real Arena database, and leave nothing behind.
 */
export async function createBenchDatabase(name: string): Promise<BenchDatabase> {
  const env = loadEnv();
  const up = await ensureStack({ env, log: createLogger('warn'), progress: silentProgress });
  const url = new URL(up.database.url);
  const dbName = `arena_bench_${name}_${randomBytes(3).toString('hex')}`;
  url.pathname = `/${dbName}`;
  await ensureDatabase(url.toString());
  const knex = createKnex(url.toString(), { max: 4 });
  await migrateLatest(knex);
  return {
    url: url.toString(),
    knex,
    async drop() {
      await knex.destroy();
      const admin = new URL(up.database.url);
      admin.pathname = '/postgres';
      const adminKnex = createKnex(admin.toString(), { max: 1 });
      try {
        await adminKnex.raw('drop database if exists ?? with (force)', [dbName]);
      } finally {
        await adminKnex.destroy();
      }
      await stopStarted(up.started);
    },
  };
}
