import { readFileSync } from 'node:fs';
import getPort from 'get-port';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArenaClient } from '../../src/client/arena-client.js';
import { buildGateway } from '../../src/gateway/server.js';
import { TokenStore } from '../../src/gateway/tokens.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { startTraffic } from '../../src/simulate/traffic.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process.js';

/** One exposition's samples by metric name and label text, e.g. {arena_rollouts: {'{tenant="default",state="rolled_back"}': 1}}. */
function samples(text: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const series = out.get(m[1]!) ?? new Map<string, number>();
    series.set(m[2] ?? '', Number(m[3]));
    out.set(m[1]!, series);
  }
  return out;
}

/** Every name an exposition declares (# TYPE) or has samples of, with a histogram's _bucket/_sum/_count. */
function exportedNames(text: string): Set<string> {
  const names = new Set(samples(text).keys());
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${m[1]}${s}`);
  }
  return names;
}

/**
 * `arena worker` with ARENA_WORKER_METRICS_ADDRESS and ARENA_WORKER_SDK_METRICS_ADDRESS, as an operator runs
 * it: a rollout that breaches and rolls back, and a backtest whose activity fails, show up in its
 * /metrics; and every metric the Grafana dashboard queries is exported by the worker, the SDK or the gateway.
 */
describe('the worker’s Prometheus metrics and the Grafana dashboard', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: WorkerProcess;
  let metricsUrl: string;
  let sdkMetricsUrl: string;
  const stack = inject('stack');

  beforeAll(async () => {
    db = await createTestDatabase('worker_metrics');
    temporal = await connectTestTemporal();
    const sdkPort = await getPort();
    worker = spawnWorkerProcess({
      databaseUrl: db.url,
      temporalAddress: stack.temporalAddress,
      namespace: stack.namespace,
      taskQueue: temporal.taskQueue,
      env: {
        ARENA_WORKER_METRICS_ADDRESS: '127.0.0.1:0',
        ARENA_WORKER_SDK_METRICS_ADDRESS: `127.0.0.1:${sdkPort}`,
      },
    });
    await worker.ready;
    const logged = /"metrics":"(http:\/\/[^"]+)","sdkMetrics":"(http:\/\/[^"]+)"/.exec(worker.output());
    expect(logged, worker.output()).not.toBeNull();
    [metricsUrl, sdkMetricsUrl] = [logged![1]!, logged![2]!];
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await temporal?.close();
    await db?.drop();
  });

  it('counts analyses, the breach-to-rollback time, activity failures, rollouts by state and weights', async () => {
    for (const v of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'wm', version: v, actor: 't' });
    await setChampion(db.knex, { model: 'wm', version: '1.0.0', actor: 't' });
    const traffic = await startTraffic({
      databaseUrl: db.url,
      model: 'wm',
      profiles: { '1.0.0': { noise: 10 }, '1.1.0': { noise: 8, errorRate: 0.4 } },
      ratePerSecond: 300,
    });
    const arena = new ArenaClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
      workflowIdPrefix: `wm-${temporal.taskQueue.slice(-8)}`,
    });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'wm',
        challenger: '1.1.0',
        proposedBy: 'dana',
        policy: {
          approval: { required: false },
          stages: [{ mode: 'canary', weight: 30, duration: '20s' }],
          analysis: { interval: '500ms', minSamples: 40, maxExtension: '4s' },
          guardrails: [{ metric: 'error', max: 0.05, rollbackAbove: 0.15 }],
          onInconclusive: 'rollback',
        },
      });
      expect((await arena.result(rolloutId)).state).toBe('rolled_back');
    } finally {
      await traffic.stop();
    }
    // A backtest of a model that does not exist: its activity fails, once (not retryable).
    await expect(
      temporal.client.workflow.execute('backtestWorkflow', {
        taskQueue: temporal.taskQueue,
        workflowId: `wm-backtest-${temporal.taskQueue.slice(-8)}`,
        args: [{ tenantId: 'default', model: 'no-such-model' }],
      }),
    ).rejects.toThrow();

    const m = samples(await (await fetch(metricsUrl)).text());
    expect(m.get('arena_rollouts')?.get('{tenant="default",state="rolled_back"}')).toBe(1);
    // Rolled back: the routing table says the challenger serves nothing now.
    expect(m.get('arena_challenger_weight_ratio')?.get('{tenant="default",model="wm",mode="off"}')).toBe(0);
    const failed = m.get('arena_analyses_total')?.get('{mode="canary",decision="fail"}') ?? 0;
    expect(failed).toBeGreaterThanOrEqual(1);
    const stored = await db.knex('analyses').count({ n: '*' }).first();
    const counted = [...(m.get('arena_analyses_total')?.values() ?? [])].reduce((a, b) => a + b, 0);
    expect(counted).toBe(Number(stored?.n)); // each stored analysis counted once
    expect(m.get('arena_breach_to_rollback_seconds_count')?.get('')).toBe(1);
    const seconds = m.get('arena_breach_to_rollback_seconds_sum')?.get('') ?? -1;
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(seconds).toBeLessThan(10);
    expect(
      m.get('arena_activity_failures_total')?.get('{activity="runBacktest",error="UnknownModelError"}'),
    ).toBe(1);
  }, 120_000);

  // After the test above: the SDK exports a histogram only once it has observed something (workflow tasks).
  it('exports every metric the Grafana dashboard queries', async () => {
    const dashboard = JSON.parse(readFileSync('deploy/grafana/arena.json', 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const wanted = new Set(
      dashboard.panels.flatMap((p) =>
        p.targets.flatMap((t) =>
          [...t.expr.matchAll(/\b((?:arena|temporal)_[a-z0-9_]+)\b/g)].map((x) => x[1]!),
        ),
      ),
    );
    expect(wanted.size).toBeGreaterThan(5);
    const token = 'metrics-scraper-token-0123456789';
    const gateway = await buildGateway({
      databaseUrl: db.url,
      tokens: new TokenStore([{ token, name: 'prometheus', tenant: 'default', roles: ['metrics'] }]),
    });
    try {
      const gatewayText = (
        await gateway.inject({
          method: 'GET',
          url: '/metrics',
          headers: { authorization: `Bearer ${token}` },
        })
      ).body;
      const exported = new Set([
        ...exportedNames(await (await fetch(metricsUrl)).text()),
        ...exportedNames(await (await fetch(sdkMetricsUrl)).text()),
        ...exportedNames(gatewayText),
      ]);
      expect([...wanted].filter((name) => !exported.has(name))).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});
