import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { retrainActivities } from '../../activities/retrain.js';
import { createLocalArtifactStore } from '../../src/artifacts/local-store.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/** A test file's database, scratch directory, artifact store and retraining activities (real, not mocked). */
export interface RetrainFixture {
  db: TestDatabase;
  /** A scratch directory of the file's own, removed by `drop`. */
  dir: string;
  store: ReturnType<typeof createLocalArtifactStore>;
  acts: ReturnType<typeof retrainActivities>;
  drop(): Promise<void>;
}

export async function createRetrainFixture(database: string): Promise<RetrainFixture> {
  const db = await createTestDatabase(database);
  const dir = await mkdtemp(join(tmpdir(), `arena-${database}-`));
  const store = createLocalArtifactStore(join(dir, 'store'));
  const acts = retrainActivities({
    knex: db.knex,
    clock: () => new Date(),
    log: createLogger('silent'),
    rollupBucketMs: 1000,
    artifacts: store,
  });
  return {
    db,
    dir,
    store,
    acts,
    async drop() {
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
