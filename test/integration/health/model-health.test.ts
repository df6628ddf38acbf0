import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelHealth } from '../../../src/health/model-health.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-22T12:00:00Z');

describe('model health on real Postgres', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('health');
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** Served predictions of `version` with absolute error `err` on `days` days before NOW (one request each hour). */
  async function serve(model: string, version: string, err: number, daysAgo: number[]): Promise<void> {
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 3600 });
    for (const d of daysAgo) {
      const predictions = [];
      const feedback = [];
      for (let h = 0; h < 24; h++) {
        const at = new Date(NOW.getTime() - d * DAY + h * 3_600_000 - 12 * 3_600_000).toISOString();
        const requestId = `${version}-${d}-${h}`;
        predictions.push({
          requestId,
          model,
          version,
          role: 'served',
          prediction: 20 + err,
          latencyMs: 10,
          at,
        });
        feedback.push({ model, requestId, actual: 20, at });
      }
      await recorder.recordPredictions(predictions, { durable: true });
      await recorder.recordFeedbackBatch(feedback, { durable: true });
    }
    await recorder.close();
  }

  it('is ok for a stable champion that serves as well as its holdout promised', async () => {
    const model = 'health-stable';
    await registerVersion(db.knex, { model, version: '1.0.0', actor: 't', metrics: { holdout: { mae: 2 } } });
    await setChampion(db.knex, { model, version: '1.0.0', actor: 't' });
    await serve(model, '1.0.0', 2, [1, 2, 3, 8, 9, 10]);
    const h = await modelHealth(db.knex, model, { now: NOW });
    expect(h.verdict).toBe('ok');
    expect(h.reasons).toEqual([]);
    expect(h.champion?.primary.last7d).toEqual({ n: 72, mean: 2 });
    expect(h.champion?.primary.trend).toBe('stable');
    expect(h.backtest).toBeNull();
    expect(h.alerts.open).toBe(0);
  });

  it('asks for attention when the champion gets worse, and says why, with the latest backtest and alerts', async () => {
    const model = 'health-worse';
    await registerVersion(db.knex, { model, version: '1.0.0', actor: 't', metrics: { holdout: { mae: 2 } } });
    await setChampion(db.knex, { model, version: '1.0.0', actor: 't' });
    await serve(model, '1.0.0', 2, [8, 9, 10]);
    await serve(model, '1.0.0', 3, [1, 2, 3]);
    await db.knex('backtest_results').insert([
      {
        model,
        version: '1.0.0',
        window_start: '2026-11-01',
        window_end: '2026-11-07',
        n: 7,
        mae: 2.1,
        mape: 0.1,
        bias: 0.2,
      },
      {
        model,
        version: '1.0.0',
        window_start: '2026-11-08',
        window_end: '2026-11-14',
        n: 7,
        mae: 2.9,
        mape: 0.14,
        bias: 0.8,
      },
    ]);
    await db.knex('alerts').insert([
      { type: 'drift_detected', severity: 'warning', model, title: 'temp drift', dedupe_key: 'h1' },
      {
        type: 'rollback_executed',
        severity: 'info',
        model,
        title: 'old',
        dedupe_key: 'h2',
        status: 'dismissed',
      },
    ]);
    const h = await modelHealth(db.knex, model, { now: NOW });
    expect(h.verdict).toBe('attention');
    expect(h.champion?.primary.trend).toBe('worsening');
    expect(h.champion?.primary.change).toBeCloseTo(0.5, 10);
    expect(h.reasons.join('\n')).toMatch(/50\.0% worse than the week before/);
    expect(h.reasons.join('\n')).toMatch(/MAE 3\.000 is 50% above its holdout baseline 2\.000/);
    expect(h.backtest).toMatchObject({ windowEnd: '2026-11-14', mae: 2.9 });
    expect(h.alerts).toMatchObject({ open: 1, bySeverity: { critical: 0, warning: 1, info: 0 } });
  });

  it('is critical with a critical alert open or without a champion', async () => {
    const model = 'health-critical';
    await registerVersion(db.knex, { model, version: '1.0.0', actor: 't' });
    expect((await modelHealth(db.knex, model, { now: NOW })).verdict).toBe('critical');
    await setChampion(db.knex, { model, version: '1.0.0', actor: 't' });
    await db
      .knex('alerts')
      .insert({ type: 'srm_detected', severity: 'critical', model, title: 'srm', dedupe_key: 'c1' });
    const h = await modelHealth(db.knex, model, { now: NOW });
    expect(h.verdict).toBe('critical');
    expect(h.reasons).toContain('1 critical alert(s) open');
  });
});
