import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal as proto } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { TestDatabase } from './database.js';
import type { TestTemporal } from './temporal.js';

/**
 * Replays a rollout's real history against the current workflow code; with UPDATE_HISTORIES=1 it is
 * also written to test/fixtures/histories/<fixture>.json, which the replay test replays on every run.
 */
export async function replayAndMaybeRecord(
  db: TestDatabase,
  temporal: TestTemporal,
  rolloutId: string,
  fixture: string,
): Promise<proto.api.history.v1.IHistory> {
  const row = await db.knex('rollouts').where({ id: rolloutId }).first('workflow_id', 'run_id');
  const history = await temporal.client.workflow.getHandle(row.workflow_id, row.run_id).fetchHistory();
  await Worker.runReplayHistory(
    { workflowBundle: { code: inject('workflowBundleCode') }, replayName: fixture },
    history,
  );
  if (process.env.UPDATE_HISTORIES === '1') {
    const dir = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}${fixture}.json`, historyToJSON(history));
  }
  return history;
}
