import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { championMonitorActivities } from '../../../activities/champion-monitor.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { createLogger } from '../../../src/log.js';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);

/**
 * The champion monitor's activity on real rollups with a clock of the test's own: the latency and error-rate
 * tiers (absolute), a baseline taken after the promotion when there was no traffic before it, a retried run
 * that returns what it decided, and the episodes of a version that stopped being champion.
 */
describe('runChampionMonitor (real Postgres, rollups written by the recorder)', () => {
  let db: TestDatabase;
  let now = T0;
  let acts: ReturnType<typeof championMonitorActivities>;
  let seq = 0;

  async function serve(
    version: string,
    o: { n: number; at: number; latencyMs: number; errorEvery?: number },
  ) {
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 60 });
    const out = await recorder.recordPredictions(
      Array.from({ length: o.n }, (_, i) => ({
        requestId: `r${seq++}`,
        model: 'svc',
        version,
        prediction: 1,
        latencyMs: o.latencyMs,
        error: o.errorEvery ? i % o.errorEvery === 0 : false,
        at: new Date(o.at + i * 100).toISOString(),
      })),
      { durable: true },
    );
    expect(out.rejected).toEqual([]);
    await recorder.close();
  }
  const run = (checkId: string) => acts.runChampionMonitor({ tenantId: 'default', model: 'svc', checkId });
  const changes = (r: Awaited<ReturnType<typeof run>>) =>
    r.events.map((e) => [e.version, e.check, e.kind, e.tier]);

  beforeAll(async () => {
    db = await createTestDatabase('champion_monitor_activity');
    acts = championMonitorActivities({
      knex: db.knex,
      clock: () => new Date(now),
      log: createLogger('silent'),
      rollupBucketMs: 60_000,
    });
    for (const v of ['1.0.0', '2.0.0'])
      await registerVersion(db.knex, { model: 'svc', version: v, actor: 't' });
    await setChampion(db.knex, { model: 'svc', version: '1.0.0', actor: 't' });
    await db
      .knex('model_versions')
      .where({ model: 'svc', version: '1.0.0' })
      .update({ promoted_at: new Date(T0 - 30 * HOUR) });
  });
  afterAll(async () => db?.drop());

  it('judges p95 latency and the error rate on absolute thresholds; accuracy waits for labels', async () => {
    await serve('1.0.0', { n: 600, at: T0 - 40 * 60_000, latencyMs: 800, errorEvery: 100 }); // 1 % errors
    const first = await run('c1');
    expect(changes(first)).toEqual([
      ['1.0.0', 'latency', 'opened', 'warning'],
      ['1.0.0', 'error_rate', 'opened', 'critical'],
    ]);
    const latency = first.findings.find((f) => f.check === 'latency')!;
    expect(latency.figure!).toBeGreaterThan(750);
    expect(latency.figure!).toBeLessThan(1000);
    expect(first.findings.find((f) => f.check === 'accuracy')).toMatchObject({ tier: null, n: 0 });
    // No critical accuracy breach: no retrain asked for, whatever else is critical.
    expect(first.retrain).toBe(false);

    // A retried activity returns what its run decided, and decides nothing twice.
    const retried = await run('c1');
    expect(changes(retried)).toEqual(changes(first));
    const [{ n }] = (await db
      .knex('champion_monitor_events')
      .where({ check_id: 'c1' })
      .count({ n: '*' })) as [{ n: number | string }];
    expect(Number(n)).toBe(2);

    // Slower still, and clean: latency escalates, the error rate resolves (peak critical).
    now = T0 + 30 * 60_000;
    await serve('1.0.0', { n: 3000, at: T0, latencyMs: 1500 });
    expect(changes(await run('c2'))).toEqual([
      ['1.0.0', 'latency', 'escalated', 'critical'],
      ['1.0.0', 'error_rate', 'resolved', 'ok'],
    ]);
    const resolved = (await run('c2')).events.find((e) => e.check === 'error_rate')!;
    expect(resolved).toMatchObject({ peak: 'critical', alertKey: expect.stringMatching(/:critical$/) });
    expect(resolved.closes).toEqual([
      expect.stringMatching(/^monitor:svc:1\.0\.0:error_rate:c1:warning$/),
      'monitor:svc:1.0.0:error_rate:c1:critical',
    ]);
  });

  it('takes the baseline after the promotion when there was no traffic before it, once that window passed', async () => {
    // 1.0.0 served nothing labelled in the 24 h before its promotion (30 h ago), but 500 labelled
    // predictions an hour after it, 90 % right: its first 24 h after the promotion make the baseline.
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 60 });
    const at = T0 - 29 * HOUR;
    const ids = Array.from({ length: 500 }, (_, i) => `label-${i}`);
    await recorder.recordPredictions(
      ids.map((requestId, i) => ({
        requestId,
        model: 'svc',
        version: '1.0.0',
        prediction: 'yes',
        at: new Date(at + i * 1000).toISOString(),
      })),
      { durable: true },
    );
    await recorder.recordFeedbackBatch(
      ids.map((requestId, i) => ({ model: 'svc', requestId, actual: i % 10 === 0 ? 'no' : 'yes' })),
      { durable: true },
    );
    await recorder.close();
    const r = await run('c2b');
    const baseline = await db.knex('champion_baselines').where({ model: 'svc', version: '1.0.0' }).first();
    expect(baseline).toMatchObject({ metric: 'correct', source: 'after_promotion', n: 500 });
    expect(baseline.value).toBeCloseTo(0.9, 12);
    expect(baseline.window_from).toEqual(new Date(T0 - 30 * HOUR));
    // The 48 h rule now has a baseline (no drop: 90 % against 90 %); the last hour has no labels.
    expect(r.findings.find((f) => f.check === 'stability')).toMatchObject({ tier: 'ok', n: 500 });
    expect(r.findings.find((f) => f.check === 'accuracy')).toMatchObject({ tier: null });
    expect(r.events).toEqual([]);
  });

  it('resolves the episodes of a version that is no longer the champion', async () => {
    await setChampion(db.knex, { model: 'svc', version: '2.0.0', actor: 't' });
    now = T0 + 2 * HOUR; // nothing served by 2.0.0 yet: nothing judged for it
    const r = await run('c3');
    expect(changes(r)).toEqual([['1.0.0', 'latency', 'resolved', 'ok']]);
    expect(r.events[0]!.finding.reason).toBe('1.0.0 is no longer the champion');
    expect(r.champion).toBe('2.0.0');
  });
});
