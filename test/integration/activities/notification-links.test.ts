import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationActivities, type DeliveryOutcome } from '../../../activities/notifications.js';
import { insertAlert } from '../../../src/alerts/alert-store.js';
import { createLogger } from '../../../src/log.js';
import { parseNotifyConfig } from '../../../src/notify/config.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../support/webhook-receiver.js';

/** The Web UI link in a notification points into the namespace the alert's workflow runs in. */
describe('notification links', () => {
  let db: TestDatabase;
  let hooks: WebhookReceiver;

  beforeAll(async () => {
    hooks = await startWebhookReceiver();
    db = await createTestDatabase('notification_links');
  });
  afterAll(async () => {
    hooks?.close();
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
        { temporalUi: 'http://ui.example:8233', sinks: [{ name: 'ops', url: `${hooks.base}/hook` }] },
        'test',
      ),
    });
    const env = new MockActivityEnvironment({ namespace: 'ml-prod' }, { logger: new DefaultLogger('ERROR') });
    const out: DeliveryOutcome[] = await env.run(acts.notifyAlert, {
      tenantId: 'default',
      dedupeKey: 'links:1',
    });
    expect(out.map((o) => o.status)).toEqual(['delivered']);
    expect((hooks.received[0]!.body as { links?: { temporalUi?: string } }).links?.temporalUi).toBe(
      'http://ui.example:8233/namespaces/ml-prod/workflows/rollout-default-m',
    );
  });
});
