import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChampionMonitorOutcome } from '../../workflows/champion-monitor.js';
import { modelHealth } from '../../src/health/model-health.js';
import { createRecorder } from '../../src/ingest/recorder.js';
import { parseNotifyConfig } from '../../src/notify/config.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { runCli } from '../support/cli.js';
import { eventually } from '../support/weather-model.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const MODEL = 'watched';
const MINUTE = 60_000;

/**
 * Issue #21: the champion monitor on real rollups, run by its workflow on a real worker: an accuracy drop
 * against the champion's own baseline opens a warning, a steeper one escalates to critical (and asks for a
 * retrain), recovery resolves it; each page goes out once per sink, and the resolution reaches the pager.
 */
describe('champion monitor: warning, then critical, then resolved', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let hooks: WebhookReceiver;
  const now = Date.now();
  let seq = 0;

  /** `count` labelled predictions of the champion, a `rightShare` of them right, spread over `fromAgo`. */
  async function serve(opts: {
    count: number;
    rightShare: number;
    fromAgoMs: number;
    spanMs: number;
    role?: 'served' | 'shadow';
    latencyMs?: number;
  }): Promise<void> {
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    const ids = Array.from({ length: opts.count }, () => `q${seq++}`);
    const right = Math.round(opts.count * opts.rightShare);
    const predictions = ids.map((requestId, i) => ({
      requestId,
      model: MODEL,
      version: '1.1.0',
      role: opts.role ?? 'served',
      prediction: 'spam',
      latencyMs: opts.latencyMs ?? 40,
      at: new Date(now - opts.fromAgoMs + Math.floor((i * opts.spanMs) / opts.count)).toISOString(),
    }));
    expect((await recorder.recordPredictions(predictions, { durable: true })).rejected).toEqual([]);
    const feedback = ids.map((requestId, i) => ({
      model: MODEL,
      requestId,
      actual: i < right ? 'spam' : 'ham',
    }));
    expect((await recorder.recordFeedbackBatch(feedback, { durable: true })).rejected).toEqual([]);
    await recorder.close();
  }

  const runMonitor = (n: number) =>
    temporal.client.workflow.execute('championMonitorWorkflow', {
      taskQueue: temporal.taskQueue,
      workflowId: `monitor-${temporal.taskQueue.slice(-8)}-${n}`,
      args: [{ tenantId: 'default', model: MODEL }],
    }) as Promise<ChampionMonitorOutcome>;

  beforeAll(async () => {
    hooks = await startWebhookReceiver();
    const base = hooks.base;
    db = await createTestDatabase('champion_monitor');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex, {
      notify: parseNotifyConfig(
        {
          sinks: [
            { name: 'pager', url: `${base}/pager`, severities: ['critical'], types: ['champion_*'] },
            { name: 'team', url: `${base}/team`, severities: ['critical', 'warning'], types: ['champion_*'] },
          ],
        },
        'test',
      ),
    });
    running = worker.run();

    await registerVersion(db.knex, { model: MODEL, version: '1.0.0', actor: 't' });
    await registerVersion(db.knex, { model: MODEL, version: '1.1.0', actor: 't' });
    await setChampion(db.knex, { model: MODEL, version: '1.1.0', actor: 't' });
    // Promoted 90 minutes ago, on 24 h of shadow traffic at 90 % accuracy: its baseline. The retrain a
    // critical breach asks for is refused (no training configured), which the outcome says.
    await db
      .knex('model_versions')
      .where({ model: MODEL, version: '1.1.0' })
      .update({ promoted_at: new Date(now - 90 * MINUTE) });
    await db
      .knex('models')
      .where({ name: MODEL })
      .update({ metadata: JSON.stringify({ monitoring: { champion: { window: '1h', minSamples: 200 } } }) });
    await serve({
      count: 1000,
      rightShare: 0.9,
      fromAgoMs: 3 * 60 * MINUTE,
      spanMs: 60 * MINUTE,
      role: 'shadow',
    });
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
    hooks?.close();
  });

  it('opens, escalates, de-duplicates and resolves, against the baseline from before the promotion', async () => {
    // Nothing served since the promotion: nothing judged, nothing raised.
    const quiet = await runMonitor(0);
    expect(quiet.findings.map((f) => f.tier)).toEqual([null, null, null, null]);
    expect(quiet.events).toEqual([]);
    const baseline = await db.knex('champion_baselines').where({ model: MODEL }).first();
    expect(baseline).toMatchObject({ version: '1.1.0', metric: 'correct', source: 'before_promotion' });
    expect(baseline.value).toBeCloseTo(0.9, 12);

    // 1,000 served in the last half hour at 89 %: 1.1 % worse than 90 %, a warning (and the 48 h rule's).
    await serve({ count: 1000, rightShare: 0.89, fromAgoMs: 30 * MINUTE, spanMs: 10 * MINUTE });
    const warned = await runMonitor(1);
    expect(warned.events.map((e) => [e.check, e.kind, e.tier])).toEqual([
      ['accuracy', 'opened', 'warning'],
      ['stability', 'opened', 'warning'],
    ]);
    expect(warned.findings.find((f) => f.check === 'latency')).toMatchObject({ tier: 'ok' });
    expect(warned.findings.find((f) => f.check === 'error_rate')).toMatchObject({ tier: 'ok', figure: 0 });

    // The same condition again: nothing new.
    expect((await runMonitor(2)).events).toEqual([]);

    // 1,000 more at 80 %: 84.5 % over the hour, 6 % worse: critical, and a retrain is asked for.
    await serve({ count: 1000, rightShare: 0.8, fromAgoMs: 20 * MINUTE, spanMs: 10 * MINUTE });
    const critical = await runMonitor(3);
    expect(critical.events.map((e) => [e.check, e.kind, e.tier])).toEqual([
      ['accuracy', 'escalated', 'critical'],
    ]);
    expect(critical.retrain).toBe(true);
    expect(critical.retrainJob).toMatchObject({ jobId: null });
    expect(critical.retrainJob!.note).toBe(`Model ${MODEL} has no training configuration`);

    // 8,000 at 93 %: 91.3 % over the hour, better than the baseline: both episodes resolve.
    await serve({ count: 8000, rightShare: 0.93, fromAgoMs: 10 * MINUTE, spanMs: 9 * MINUTE });
    const resolved = await runMonitor(4);
    expect(resolved.events.map((e) => [e.check, e.kind, e.peak])).toEqual([
      ['accuracy', 'resolved', 'critical'],
      ['stability', 'resolved', 'warning'],
    ]);

    const alerts = (await db
      .knex('alerts')
      .where({ model: MODEL })
      .orderBy('id')
      .select('type', 'severity', 'status', 'actioned_by', 'details')) as Array<{
      type: string;
      severity: string;
      status: string;
      actioned_by: string | null;
      details: { figures: Record<string, unknown>; baseline: number; window: { from: string; to: string } };
    }>;
    expect(alerts.map((a) => [a.type, a.severity, a.status])).toEqual([
      ['champion_accuracy', 'warning', 'actioned'],
      ['champion_stability', 'warning', 'actioned'],
      ['champion_accuracy', 'critical', 'actioned'],
      ['champion_resolved', 'critical', 'unread'],
      ['champion_resolved', 'warning', 'unread'],
    ]);
    // The alerts carry the tier, the figure, the baseline and the window; resolution closed them.
    expect(alerts[2]!.details.figures).toMatchObject({
      check: 'accuracy',
      tier: 'critical',
      baseline: 0.9,
      figure: 0.845,
    });
    expect(Date.parse(alerts[2]!.details.window.to) - Date.parse(alerts[2]!.details.window.from)).toBe(
      60 * MINUTE,
    );
    expect(alerts.slice(0, 3).every((a) => a.actioned_by === 'arena')).toBe(true);

    // Once per sink: the team saw all five; the pager the critical page and its resolution.
    const seen = await eventually('deliveries', async () =>
      hooks.received.length >= 7
        ? hooks.received.map((r) => `${r.path} ${String(r.body.type)} ${String(r.body.severity)}`)
        : undefined,
    );
    expect(seen.sort()).toEqual(
      [
        '/pager champion_accuracy critical',
        '/pager champion_resolved critical',
        '/team champion_accuracy warning',
        '/team champion_stability warning',
        '/team champion_accuracy critical',
        '/team champion_resolved critical',
        '/team champion_resolved warning',
      ].sort(),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(hooks.received).toHaveLength(7);

    // Model health shows where each check stands for the champion.
    const health = await modelHealth(db.knex, MODEL);
    expect(health.monitor).toMatchObject({
      version: '1.1.0',
      baseline: { metric: 'correct', source: 'before_promotion' },
      checks: [
        { check: 'accuracy', tier: 'ok' },
        { check: 'stability', tier: 'ok' },
      ],
    });

    const shown = await runCli(['model', 'health', MODEL], { DATABASE_URL: db.url });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(
      /\nmonitor {4}1\.1\.0: baseline correct 0\.9000 \(before promotion\), accuracy ok since \S+ \S+Z, stability ok since /,
    );

    // `arena monitor check` runs the same workflow: everything ok now, nothing changes, nothing is sent.
    const cli = await runCli(['monitor', 'check', MODEL], {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: inject('stack').temporalAddress,
      ARENA_TASK_QUEUE: temporal.taskQueue,
    });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(
      /^watched \(champion 1\.1\.0\)\n {2}ok +accuracy +correct 0\.913\d vs baseline 0\.9000: not worse/,
    );
    expect(cli.stdout).not.toContain('→');
    expect(hooks.received).toHaveLength(7);
  }, 120_000);
});
