import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDay } from '../../examples/flights-model/data.js';
import { trainFlightsModel, type FlightsModelArtifact } from '../../examples/flights-model/model.js';
import { flightsReplay } from '../../src/demo/flights-replay.js';
import { createRecorder } from '../../src/ingest/recorder.js';
import type { DriftCheckOutcome } from '../../workflows/drift-check.js';
import type { TestDatabase } from '../support/database.js';
import { registerFlightsChampion } from '../support/flights.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import type { TestTemporal } from '../support/temporal.js';

/**
 * Drift of categorical inputs on real data: the flights classifier's training profile counts its origin
 * and destination airports; served traffic reports them as text features. The hourly drift check compares
 * the category shares (PSI decides, chi-square beside it) next to the numeric distance (PSI and KS).
 */
describe('categorical drift on real flights (real Temporal, real Postgres)', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let stack: TestStack;
  let champion: FlightsModelArtifact;
  const suffix = Date.now().toString(36);

  beforeAll(async () => {
    champion = await trainFlightsModel({
      model: 'flights',
      version: '1.0.0',
      featureSet: 'schedule',
      trainFrom: localDay('2001-01-01'),
      trainTo: localDay('2001-01-08'),
      holdoutFrom: localDay('2001-01-08'),
      holdoutTo: localDay('2001-01-09'),
    });
    stack = await startTestStack('categorical_drift', 'drift');
    ({ db, temporal } = stack);
  }, 600_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** A model whose champion serves 2,000 flights of June 1, all airports or only those leaving `origin`. */
  async function serve(model: string, origin?: string): Promise<DriftCheckOutcome> {
    await registerFlightsChampion(db.knex, model, champion);
    await db
      .knex('models')
      .where({ name: model })
      .update({ metadata: JSON.stringify({ monitoring: { drift: { minSamples: 200 } } }) });
    const replay = await flightsReplay({
      artifacts: { '1.0.0': champion },
      from: localDay('2001-06-01'),
      to: localDay('2001-06-02'),
      ...(origin ? { origin } : {}),
    });
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    const now = Date.now();
    // Spread over the day: the first 2,000 flights of a day are its early hours, a mix of their own.
    const stride = Math.max(1, Math.floor(replay.flights / 2000));
    const stored = await recorder.recordPredictions(
      Array.from({ length: 2000 }, (_, i) => {
        const r = replay.request(i * stride);
        const a = r.predict('1.0.0')!;
        return {
          requestId: `${model}-${i}`,
          model,
          version: '1.0.0',
          prediction: a.label,
          probability: a.probability,
          features: r.features!,
          at: now - 30_000 + i,
        };
      }),
      { durable: true },
    );
    expect(stored.rejected).toEqual([]);
    await recorder.close();
    return (await (
      await temporal.client.workflow.start('driftCheckWorkflow', {
        taskQueue: temporal.taskQueue,
        workflowId: `drift-check-${model}`,
        args: [{ tenantId: 'default', model }],
      })
    ).result()) as DriftCheckOutcome;
  }

  it('sees no drift in June’s traffic from every airport, and drift when only Atlanta’s flights arrive', async () => {
    const all = await serve(`flights-all-${suffix}`);
    const origin = all.features.find((f) => f.feature === 'origin')!;
    expect(origin).toMatchObject({ kind: 'categorical', drifted: false });
    expect(origin.psi).toBeLessThan(0.1);
    expect(all.features.find((f) => f.feature === 'distance')).toMatchObject({
      kind: 'numeric',
      drifted: false,
    });
    expect(all.drifted, all.summary).toBe(false);

    const atlanta = await serve(`flights-atl-${suffix}`, 'ATL');
    expect(atlanta.drifted).toBe(true);
    const shifted = atlanta.features.find((f) => f.feature === 'origin')!;
    expect(shifted).toMatchObject({ kind: 'categorical', drifted: true });
    expect(shifted.psi).toBeGreaterThan(1);
    expect(shifted.chiSquare!.pValue).toBeLessThan(1e-6);
    expect(shifted.reason).toMatch(/^origin: PSI \d+\.\d{3} > 0\.25 over category shares; χ² /);
    expect(atlanta.features.find((f) => f.feature === 'destination')!.drifted).toBe(true);
    // Both statistics are stored per feature: PSI, and chi-square for categories (KS for numbers).
    const rows = (await db
      .knex('drift_reports')
      .where({ model: `flights-atl-${suffix}` })
      .select('feature', 'method')) as Array<{ feature: string; method: string }>;
    expect(rows).toEqual(
      expect.arrayContaining([
        { feature: 'origin', method: 'psi' },
        { feature: 'origin', method: 'chi_square' },
        { feature: 'distance', method: 'ks' },
      ]),
    );
  }, 180_000);
});
