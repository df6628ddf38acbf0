import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import { ArenaClient } from '../../src/client/arena-client.js';
import { createLogger } from '../../src/log.js';
import { parseNotifyConfig } from '../../src/notify/config.js';
import type { PolicyInput } from '../../src/policy/policy.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { startTraffic } from '../../src/simulate/traffic.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { QUICK_PROMOTING_POLICY } from '../support/quick-policy.js';
import { eventually } from '../support/weather-model.js';
import {
  startWebhookReceiver,
  type ReceivedHook,
  type WebhookReceiver,
} from '../support/webhook-receiver.js';

describe('alert notifications to webhooks (real worker, a local receiver)', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let hooks: WebhookReceiver;
  let base: string;
  let received: ReceivedHook[];
  let jsonFailuresLeft = 2;

  const config = () =>
    parseNotifyConfig(
      {
        temporalUi: 'http://127.0.0.1:8233',
        arenaUrl: 'http://arena.example:8080/',
        sinks: [
          { name: 'ops-json', url: `${base}/json`, format: 'json', severities: ['critical', 'warning'] },
          { name: 'ops-slack', url: `${base}/slack`, format: 'slack', severities: ['critical'] },
          { name: 'digest', url: `${base}/info`, format: 'json', severities: ['info'] },
          { name: 'broken', url: `${base}/bad`, format: 'json', severities: ['critical'] },
          {
            name: 'lifecycle',
            url: `${base}/lifecycle`,
            severities: ['critical', 'warning', 'info'],
            types: ['approval_requested', 'rollout_promoted', 'retrain_*', 'experiment_*'],
          },
          {
            name: 'promotions',
            url: `${base}/promotions`,
            format: 'slack',
            severities: ['info'],
            types: ['rollout_promoted'],
          },
        ],
      },
      'test',
    );

  beforeAll(async () => {
    // The JSON sink fails twice before it accepts: the activity must retry with backoff.
    hooks = await startWebhookReceiver((path) =>
      path === '/bad' ? 400 : path === '/json' && jsonFailuresLeft-- > 0 ? 500 : 200,
    );
    ({ base, received } = hooks);
    db = await createTestDatabase('notify');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex, { notify: config() });
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
    hooks?.close();
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

  it('lifecycle events: awaiting approval and promoted reach the sinks whose type and severity take them, once each', async () => {
    await registerVersion(db.knex, { model: 'life', version: '1.0.0', actor: 't' });
    await registerVersion(db.knex, { model: 'life', version: '1.1.0', actor: 't' });
    await setChampion(db.knex, { model: 'life', version: '1.0.0', actor: 't' });
    const traffic = await startTraffic({
      databaseUrl: db.url,
      model: 'life',
      profiles: { '1.0.0': { noise: 10 }, '1.1.0': { noise: 6 } },
      ratePerSecond: 300,
    });
    const policy: PolicyInput = { ...QUICK_PROMOTING_POLICY, approval: { required: true, timeout: '10m' } };
    const arena = new ArenaClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
      workflowIdPrefix: `life-${temporal.taskQueue.slice(-8)}`,
    });
    let rolloutId: string;
    try {
      ({ rolloutId } = await arena.startRollout({
        model: 'life',
        challenger: '1.1.0',
        proposedBy: 'dana',
        policy,
      }));
      await eventually(
        'awaiting approval',
        async () => (await arena.status(rolloutId)).state === 'awaiting_approval',
      );
      await arena.approve(rolloutId, { by: 'erin' });
      expect((await arena.result(rolloutId)).state).toBe('promoted');
    } finally {
      await traffic.stop();
    }
    const delivered = async (type: string) => {
      const alert = (await db.knex('alerts').where({ rollout_id: rolloutId, type }).first()) as {
        id: string;
      };
      return eventually(`${type} delivered`, async () => {
        const rows = (await db
          .knex('notification_deliveries')
          .where({ alert_id: alert.id })
          .orderBy('sink')) as Array<{ sink: string; status: string }>;
        return rows.length > 0 && rows.every((r) => r.status === 'delivered')
          ? { id: Number(alert.id), sinks: rows.map((r) => r.sink) }
          : undefined;
      });
    };
    const asked = await delivered('approval_requested');
    const promoted = await delivered('rollout_promoted');
    // approval_requested is a warning: the catch-all warning sink and the lifecycle sink, not the info ones.
    expect(asked.sinks).toEqual(['lifecycle', 'ops-json']);
    // rollout_promoted is info: the info digest, the lifecycle sink and the Slack sink for promotions.
    expect(promoted.sinks).toEqual(['digest', 'lifecycle', 'promotions']);
    const bodiesOf = (id: number) => received.filter((r) => r.key?.startsWith(`default:${id}:`));
    // Exactly once per sink: one request each, all answered 200.
    for (const [event, sinks] of [
      [asked, asked.sinks],
      [promoted, promoted.sinks],
    ] as const)
      expect(
        bodiesOf(event.id)
          .map((r) => r.key)
          .sort(),
      ).toEqual(sinks.map((s) => `default:${event.id}:${s}`));
    const lifecycle = received.find((r) => r.path === '/lifecycle' && r.body.id === asked.id)!;
    expect(lifecycle.body).toMatchObject({
      type: 'approval_requested',
      severity: 'warning',
      details: { figures: { champion: '1.0.0', challenger: '1.1.0', 'proposed by': 'dana' } },
      links: { report: `http://arena.example:8080/v1/rollouts/${rolloutId}/report` },
    });
    const slack = received.find((r) => r.path === '/promotions')!.body as {
      text: string;
      blocks: Array<{ type: string; fields?: Array<{ text: string }>; elements?: Array<{ text: string }> }>;
    };
    expect(slack.text).toMatch(/^:information_source: \[info\] life 1\.1\.0 promoted \(was 1\.0\.0\)/);
    const fields = slack.blocks.flatMap((b) => b.fields ?? []).map((f) => f.text);
    expect(fields).toEqual(
      expect.arrayContaining(['*decision* pass', expect.stringMatching(/^\*abs_error\* /)]),
    );
    const context = slack.blocks.find((b) => b.type === 'context')!.elements![0]!.text;
    expect(context).toContain(`<http://arena.example:8080/v1/rollouts/${rolloutId}/report|Report>`);
    expect(context).toContain('|Temporal Web UI>');
  }, 120_000);
});
