import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { ArenaClient } from '../../src/client/arena-client.js';
import { createLogger } from '../../src/log.js';
import { parseNotifyConfig } from '../../src/notify/config.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { createWorker } from '../../src/worker/create-worker.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { eventually } from '../support/weather-model.js';

interface Received {
  path: string;
  key: string | undefined;
  body: Record<string, unknown>;
  answered: number;
}

describe('alert notifications to webhooks (real worker, a local receiver)', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let jsonFailuresLeft = 2;

  const config = () =>
    parseNotifyConfig(
      {
        temporalUi: 'http://127.0.0.1:8233',
        sinks: [
          { name: 'ops-json', url: `${base}/json`, format: 'json', severities: ['critical', 'warning'] },
          { name: 'ops-slack', url: `${base}/slack`, format: 'slack', severities: ['critical'] },
          { name: 'digest', url: `${base}/info`, format: 'json', severities: ['info'] },
          { name: 'broken', url: `${base}/bad`, format: 'json', severities: ['critical'] },
        ],
      },
      'test',
    );

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        const path = req.url ?? '';
        // The JSON sink fails twice before it accepts: the activity must retry with backoff.
        const answered = path === '/bad' ? 400 : path === '/json' && jsonFailuresLeft-- > 0 ? 500 : 200;
        received.push({
          path,
          key: req.headers['idempotency-key'] as string | undefined,
          body: JSON.parse(data) as Record<string, unknown>,
          answered,
        });
        res.writeHead(answered).end(answered === 400 ? 'bad request' : 'ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    db = await createTestDatabase('notify');
    temporal = await connectTestTemporal();
    worker = await createWorker({
      connection: temporal.nativeConnection,
      namespace: temporal.namespace,
      taskQueue: temporal.taskQueue,
      knex: db.knex,
      log: createLogger('error'),
      rollupBucketMs: 1000,
      notify: config(),
      workerOptions: { workflowBundle: { code: inject('workflowBundleCode') } },
    });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
    server?.close();
  });

  it('delivers a critical alert once per matching sink, retrying failures, and never twice', async () => {
    await registerVersion(db.knex, { model: 'pager', version: '1.0.0', actor: 't' });
    await registerVersion(db.knex, { model: 'pager', version: '1.1.0', actor: 't' });
    await setChampion(db.knex, { model: 'pager', version: '1.0.0', actor: 't' });
    const arena = new ArenaClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
      workflowIdPrefix: `rollout-${temporal.taskQueue.slice(-8)}`,
    });
    const { rolloutId } = await arena.startRollout({
      model: 'pager',
      challenger: '1.1.0',
      proposedBy: 'dana',
      policy: { approval: { required: false }, stages: [{ mode: 'shadow', duration: '1m' }] },
    });
    await eventually('the shadow stage', async () => (await arena.status(rolloutId)).state === 'shadow');
    // An abort is a rollback: a critical rollback_executed alert.
    await arena.abort(rolloutId, { by: 'erin', reason: 'wrong build' });
    await arena.result(rolloutId);
    const alert = (await db
      .knex('alerts')
      .where({ rollout_id: rolloutId, type: 'rollback_executed' })
      .first()) as { id: string; dedupe_key: string };
    const deliveries = await eventually('all deliveries settled', async () => {
      const rows = (await db
        .knex('notification_deliveries')
        .where({ alert_id: alert.id })
        .orderBy('sink')) as Array<{ sink: string; status: string; attempts: number; http_status: number }>;
      return rows.length === 3 && rows.every((r) => r.status !== 'pending') ? rows : undefined;
    });
    expect(deliveries.map((d) => [d.sink, d.status, d.attempts, d.http_status])).toEqual([
      ['broken', 'failed', 1, 400], // a permanent refusal is not retried
      ['ops-json', 'delivered', 3, 200],
      ['ops-slack', 'delivered', 1, 200],
    ]);
    expect(received.filter((r) => r.path === '/info')).toEqual([]); // routed by severity
    const json = received.filter((r) => r.path === '/json');
    expect(json.map((r) => r.answered)).toEqual([500, 500, 200]);
    expect(new Set(json.map((r) => r.key))).toEqual(new Set([`default:${alert.id}:ops-json`]));
    expect(json[2]!.body).toMatchObject({
      id: Number(alert.id),
      type: 'rollback_executed',
      severity: 'critical',
      model: 'pager',
      rolloutId,
      links: { temporalUi: expect.stringContaining('/namespaces/default/workflows/') },
    });
    const slack = received.find((r) => r.path === '/slack')!.body as { text: string; blocks: unknown[] };
    expect(slack.text).toMatch(/^:rotating_light: \[critical\] pager 1\.1\.0 rolled back: wrong build/);
    expect(slack.blocks.length).toBeGreaterThanOrEqual(2);

    // The same alert raised again (same dedupe key): nothing new is sent.
    const before = received.length;
    const acts = createActivities({
      knex: db.knex,
      clock: () => new Date(),
      log: createLogger('error'),
      rollupBucketMs: 1000,
      notify: config(),
    });
    const again = await acts.notifyAlert({ tenantId: 'default', dedupeKey: alert.dedupe_key });
    expect(again.map((o) => [o.sink, o.status])).toEqual([
      ['ops-json', 'skipped'],
      ['ops-slack', 'skipped'],
      ['broken', 'skipped'],
    ]);
    expect(received.length).toBe(before);
  }, 60_000);
});
