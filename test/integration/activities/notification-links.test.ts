import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationActivities, type DeliveryOutcome } from '../../../activities/notifications.js';
import { insertAlert } from '../../../src/alerts/alert-store.js';
import { createLogger } from '../../../src/log.js';
import { parseNotifyConfig } from '../../../src/notify/config.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

/** The Web UI link in a notification points into the namespace the alert's workflow runs in. */
describe('notification links', () => {
  let db: TestDatabase;
  let server: Server;
  let base: string;
  const bodies: Array<{ links?: { temporalUi?: string } }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        bodies.push(JSON.parse(data) as { links?: { temporalUi?: string } });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    db = await createTestDatabase('notification_links');
  });
  afterAll(async () => {
    server?.close();
    await db?.drop();
  });

  it('links to the Web UI in the workflow’s namespace, not a fixed "default"', async () => {
    await insertAlert(db.knex, {
      tenantId: 'default',
      type: 'rollback_executed',
      severity: 'critical',
      model: 'm',
      rolloutId: null,
      title: 'm 1.1.0 rolled back',
      details: { workflowId: 'rollout-default-m' },
      dedupeKey: 'links:1',
    });
    const acts = notificationActivities({
      knex: db.knex,
      clock: () => new Date(),
      log: createLogger('silent'),
      rollupBucketMs: 1000,
      notify: parseNotifyConfig(
        { temporalUi: 'http://ui.example:8233', sinks: [{ name: 'ops', url: `${base}/hook` }] },
        'test',
      ),
    });
    const env = new MockActivityEnvironment({ namespace: 'ml-prod' }, { logger: new DefaultLogger('ERROR') });
    const out: DeliveryOutcome[] = await env.run(acts.notifyAlert, {
      tenantId: 'default',
      dedupeKey: 'links:1',
    });
    expect(out.map((o) => o.status)).toEqual(['delivered']);
    expect(bodies[0]!.links?.temporalUi).toBe(
      'http://ui.example:8233/namespaces/ml-prod/workflows/rollout-default-m',
    );
  });
});
