import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArenaClient } from '../../src/client/arena-client.js';
import { verifyAuditChain } from '../../src/db/audit.js';
import knexFactory from 'knex';
import { type Knex } from '../../src/db/knex.js'; // (kept as an import: it sets the pg type parsers)
import { migrateLatest } from '../../src/db/migrate.js';
import { createLogger } from '../../src/log.js';
import { getRouting } from '../../src/routing/store.js';
import {
  createEmbeddedPostgresInstance,
  type EmbeddedPostgresInstance,
} from '../../src/stack/embedded-postgres-instance.js';
import { ensureDatabase } from '../../src/stack/postgres.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { installWorkerRuntime } from '../../src/worker/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  analysingCanary,
  BETTER,
  expectWholeRecords,
  FAULT_POLICY,
  PROMOTED_TRANSITIONS,
  localActivityAttempt,
  rolloutHistory,
  setUpModel,
  sleep,
  waitForResult,
  waitForStatus,
} from '../support/rollout-faults.js';
import type { Traffic } from '../../src/simulate/traffic.js';
import { startOwnTemporalServer, type OwnTemporalServer } from '../support/temporal-dev-server.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/**
 * The rollout survives the failures DESIGN.md §6 and issue 6 name: its worker SIGKILLed mid-canary, its
 * Postgres stopped during analysis, its Temporal server restarted. Faults are injected only into processes
 * these tests start themselves (a worker child process, an embedded Postgres, a Temporal dev server, each on
 * free ports and temporary directories); the suite's shared stack is never stopped or reconfigured.
 */

const FAULT_TIMEOUT = 240_000;

describe('worker killed with SIGKILL mid-canary', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let arena: ArenaClient;
  const workers: WorkerProcess[] = [];
  let traffic: Traffic | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('faults_kill');
    temporal = await connectTestTemporal();
    arena = new ArenaClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
      workflowIdPrefix: `faults-${temporal.taskQueue.slice(-8)}`,
    });
  });
  afterAll(async () => {
    await traffic?.stop().catch(() => undefined);
    for (const w of workers) await w.kill('SIGKILL').catch(() => undefined);
    await temporal?.close().catch(() => undefined);
    await db?.drop();
  });

  const startWorker = async (): Promise<WorkerProcess> => {
    const worker = spawnWorkerProcess({
      databaseUrl: db.url,
      temporalAddress: inject('stack').temporalAddress,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      rollupBucketSeconds: 1,
    });
    workers.push(worker);
    await worker.ready;
    return worker;
  };

  it(
    'finishes the rollout on a new worker process, with no event or analysis written twice',
    async () => {
      const first = await startWorker();
      traffic = await setUpModel(db.knex, db.url, 'killed', BETTER);
      const { rolloutId } = await arena.startRollout({
        model: 'killed',
        challenger: '1.1.0',
        policy: FAULT_POLICY,
        proposedBy: 'dana',
      });
      await waitForStatus(arena, rolloutId, analysingCanary, 'an analysis of the first canary');

      const killed = await first.kill('SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      const killedAt = new Date();
      // While no worker runs, the rollout stands still but stays where it was.
      await sleep(2_000);
      expect((await getRouting(db.knex, 'killed')).weightBp).toBe(3000);

      const second = await startWorker();
      const final = await waitForResult(arena, rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.summary)).toBe('promoted');
      expect(await getRouting(db.knex, 'killed')).toMatchObject({ champion: '1.1.0', challenger: null });

      await expectWholeRecords(db.knex, rolloutId, PROMOTED_TRANSITIONS);
      // The new process did the rest: analyses after the kill, and workflow tasks completed by both workers.
      const after = await db
        .knex('analyses')
        .where({ rollout_id: rolloutId })
        .where('at', '>', killedAt)
        .count({
          n: '*',
        });
      expect(Number(after[0]!.n)).toBeGreaterThan(0);
      const identities = new Set(
        (await rolloutHistory(temporal.client, db.knex, rolloutId))
          .map((e) => e.workflowTaskCompletedEventAttributes?.identity)
          .filter((id): id is string => !!id)
          .map((id) => id.split('@')[0]),
      );
      expect(identities).toContain(String(first.pid));
      expect(identities).toContain(String(second.pid));
      expect(await verifyAuditChain(db.knex)).toMatchObject({ ok: true });
    },
    FAULT_TIMEOUT,
  );
});

describe('Postgres stopped during analysis', () => {
  let pg: EmbeddedPostgresInstance | undefined;
  let knex: Knex | undefined;
  let temporal: TestTemporal;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let traffic: Traffic | undefined;
  let arena: ArenaClient;
  let url: string;

  beforeAll(async () => {
    pg = await createEmbeddedPostgresInstance({ prefix: 'arena-faults-pg-' });
    url = pg.url('arena');
    await ensureDatabase(url);
    // As createKnex (src/db/knex.ts, whose import also sets the numeric type parsers), but quiet: knex logs
    // every failed connection attempt, and failing connections are this test's point.
    const quiet = (): void => undefined;
    knex = knexFactory({
      client: 'pg',
      connection: url,
      pool: { min: 0, max: 5 },
      log: { warn: quiet, error: quiet, debug: quiet, deprecate: quiet },
    });
    await migrateLatest(knex);
    temporal = await connectTestTemporal();
    worker = await temporal.worker(knex);
    running = worker.run();
    arena = new ArenaClient({
      temporal: temporal.client,
      knex,
      taskQueue: temporal.taskQueue,
      workflowIdPrefix: `faults-${temporal.taskQueue.slice(-8)}`,
    });
  });
  afterAll(async () => {
    await traffic?.stop().catch(() => undefined);
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await temporal?.close().catch(() => undefined);
    await knex?.destroy().catch(() => undefined);
    await pg?.destroy();
  });

  it(
    'retries the activities while Postgres is down and finishes the rollout once it is back',
    async () => {
      traffic = await setUpModel(knex!, url, 'pgdown', BETTER);
      const { rolloutId } = await arena.startRollout({
        model: 'pgdown',
        challenger: '1.1.0',
        policy: FAULT_POLICY,
        proposedBy: 'dana',
      });
      await waitForStatus(arena, rolloutId, analysingCanary, 'an analysis of the first canary');
      const before = await knex!('analyses').where({ rollout_id: rolloutId }).max({ seq: 'seq' });

      await pg!.stop('fast');
      const stoppedAt = Date.now();
      await expect(knex!.raw('select 1')).rejects.toThrow();
      await sleep(4_000);
      await pg!.start();
      const downMs = Date.now() - stoppedAt;

      const final = await waitForResult(arena, rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.summary)).toBe('promoted');
      expect(await getRouting(knex!, 'pgdown')).toMatchObject({ champion: '1.1.0', challenger: null });
      await expectWholeRecords(knex!, rolloutId, PROMOTED_TRANSITIONS);
      const afterSeq = await knex!('analyses').where({ rollout_id: rolloutId }).max({ seq: 'seq' });
      expect(Number(afterSeq[0]!.seq)).toBeGreaterThan(Number(before[0]!.seq));

      // The outage was felt and survived: some activity needed more than one attempt. Ordinary activities
      // show it in their started event (with the last failure: the database unreachable); the analysis is a
      // local activity, whose attempts are in its marker.
      const history = await rolloutHistory(temporal.client, knex!, rolloutId);
      const retried = history
        .map((e) => e.activityTaskStartedEventAttributes)
        .filter((a) => a && (a.attempt ?? 1) > 1);
      const retriedLocal = history.map(localActivityAttempt).filter((a) => a !== null && a > 1);
      expect(
        retried.length + retriedLocal.length,
        `no activity was retried during a ${downMs} ms outage`,
      ).toBeGreaterThan(0);
      if (retried.length)
        expect(retried.map((a) => a!.lastFailure?.message ?? '').join('\n')).toMatch(
          /ECONNREFUSED|terminat|shutdown|connect|Connection/i,
        );
      expect(worker!.getState()).toBe('RUNNING');
      expect(await verifyAuditChain(knex!)).toMatchObject({ ok: true });
    },
    FAULT_TIMEOUT,
  );
});

describe('Temporal dev server restarted on its database file', () => {
  let server: OwnTemporalServer | undefined;
  let db: TestDatabase;
  let connection: Connection | undefined;
  let nativeConnection: NativeConnection | undefined;
  let client: Client;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let workerError: unknown;
  let traffic: Traffic | undefined;
  let arena: ArenaClient;
  const taskQueue = `faults-${randomUUID()}`;

  beforeAll(async () => {
    server = await startOwnTemporalServer();
    db = await createTestDatabase('faults_temporal');
    installWorkerRuntime();
    connection = await Connection.connect({ address: server.address });
    nativeConnection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    worker = await createWorker({
      connection: nativeConnection,
      namespace: server.namespace,
      taskQueue,
      knex: db.knex,
      log: createLogger('warn'),
      rollupBucketMs: 1000,
      workerOptions: { workflowBundle: { code: inject('workflowBundleCode') } },
    });
    running = worker.run().catch((err: unknown) => {
      workerError = err;
    });
    arena = new ArenaClient({ temporal: client, knex: db.knex, taskQueue, workflowIdPrefix: 'faults' });
  });
  afterAll(async () => {
    await traffic?.stop().catch(() => undefined);
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    // A worker cannot finish shutting down against a server that is gone; do not wait for ever.
    await Promise.race([running, sleep(15_000)]);
    await nativeConnection?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await server?.destroy();
    await db?.drop();
  });

  it(
    'resumes the rollout after the server is killed and started again on the same file and ports',
    async () => {
      traffic = await setUpModel(db.knex, db.url, 'restarted', BETTER);
      const { rolloutId, workflowId } = await arena.startRollout({
        model: 'restarted',
        challenger: '1.1.0',
        policy: FAULT_POLICY,
        proposedBy: 'dana',
      });
      await waitForStatus(arena, rolloutId, analysingCanary, 'an analysis of the first canary');
      const firstPid = server!.pid();
      const stoppedWith = await server!.stop(5_000);
      expect(['SIGTERM', 'SIGKILL']).toContain(stoppedWith);
      expect(server!.pid()).toBeUndefined();
      await sleep(3_000);
      await server!.start();
      expect(server!.pid()).not.toBe(firstPid);
      const restartedAt = new Date();

      const final = await waitForResult(arena, rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.summary)).toBe('promoted');
      expect(await getRouting(db.knex, 'restarted')).toMatchObject({ champion: '1.1.0', challenger: null });
      await expectWholeRecords(db.knex, rolloutId, PROMOTED_TRANSITIONS);

      // The same workflow run continued: the run started before the restart completed on the restarted
      // server (its history came back from the database file), with analyses after the restart.
      const { run_id: runId } = (await db.knex('rollouts').where({ id: rolloutId }).first('run_id')) as {
        run_id: string;
      };
      const description = await client.workflow.getHandle(workflowId, runId).describe();
      expect(description.status.name).toBe('COMPLETED');
      expect(description.startTime.getTime()).toBeLessThan(restartedAt.getTime());
      const after = Number(
        (
          await db
            .knex('analyses')
            .where({ rollout_id: rolloutId })
            .where('at', '>', restartedAt)
            .count({ n: '*' })
        )[0]!.n,
      );
      expect(after).toBeGreaterThan(0);
      // The worker rode out the outage: same Worker instance, still running, never failed.
      expect(workerError).toBeUndefined();
      expect(worker!.getState()).toBe('RUNNING');
    },
    FAULT_TIMEOUT,
  );
});
