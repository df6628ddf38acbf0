import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };

describe('first workflow end to end on the real Temporal server and Postgres', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  beforeAll(async () => {
    db = await createTestDatabase('stack_check');
    temporal = await connectTestTemporal();
  });
  afterAll(async () => {
    await temporal?.close();
    await db?.drop();
  });

  it('a client starts the workflow, the activity writes a row, Postgres holds it, and the history replays', async () => {
    const worker = await temporal.worker(db.knex);
    const workflowId = `stack-check-${randomUUID()}`;
    const result = await worker.runUntil(
      temporal.client.workflow.execute('stackCheckWorkflow', {
        taskQueue: temporal.taskQueue,
        workflowId,
        args: [{ requestedBy: 'e2e-test', note: 'hello' }],
      }),
    );
    expect(result.workflowId).toBe(workflowId);

    const row = await db.knex('audit_log').where({ id: result.auditId }).first();
    expect(row).toMatchObject({
      actor: 'e2e-test',
      action: 'stack.check',
      entity_id: workflowId,
      hash: result.hash,
      details: { note: 'hello' },
    });

    const history = await temporal.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory(
      { workflowBundle: { code: inject('workflowBundleCode') }, replayName: 'stack-check' },
      history,
    );

    // Recording a fresh fixture is opt-in: UPDATE_HISTORIES=1 npm test.
    if (process.env.UPDATE_HISTORIES === '1') {
      const dir = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
      await mkdir(dir, { recursive: true });
      await writeFile(`${dir}stack-check.json`, historyToJSON(history));
    }

    const changed = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(
        new URL('../fixtures/nondeterministic-workflows/index.ts', import.meta.url),
      ),
      logger: quiet,
    });
    await expect(
      Worker.runReplayHistory({ workflowBundle: changed, replayName: 'changed' }, history),
    ).rejects.toThrow(/[Nn]ondetermin|DeterminismViolation/);
  });
});
