import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localDay } from '../../examples/flights-model/data.js';
import { trainFlightsModel, type FlightsModelArtifact } from '../../examples/flights-model/model.js';
import type { ArenaClient } from '../../src/client/arena-client.js';
import { flightsReplay } from '../../src/demo/flights-replay.js';
import type { PolicyInput } from '../../src/policy/policy.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { startTraffic } from '../../src/simulate/traffic.js';
import type { GateResult } from '../../src/stats/gate/index.js';
import type { TestDatabase } from '../support/database.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * The accuracy path end to end: real flights (examples/flights-model) replayed as live traffic through the
 * router and the recorder, each routed version answering with its real probability of a delay and the
 * outcome arriving as feedback; a rollout on a real Temporal server whose primary metric is accuracy
 * (`correct`, decided by the sequential test for two proportions) with log loss as a guardrail.
 */
describe('a classifier rollout decided on accuracy (real flights, real Temporal)', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let arena: ArenaClient;
  const artifacts: Record<string, FlightsModelArtifact> = {};

  beforeAll(async () => {
    const months = {
      trainFrom: localDay('2001-04-01'),
      trainTo: localDay('2001-05-01'),
      holdoutFrom: localDay('2001-05-01'),
      holdoutTo: localDay('2001-05-02'),
      sampleEvery: 2,
    };
    artifacts['1.0.0'] = await trainFlightsModel({
      model: 'flights',
      version: '1.0.0',
      featureSet: 'schedule',
      ...months,
    });
    artifacts['1.1.0'] = await trainFlightsModel({
      model: 'flights',
      version: '1.1.0',
      featureSet: 'schedule+airports',
      ...months,
    });
    stack = await startTestStack('accuracy_rollout', 'acc');
    ({ db, arena } = stack);
  }, 600_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it('promotes the classifier with airport features: more accurate, log loss not worse, the z-test beside it', async () => {
    for (const v of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'flights', version: v, actor: 'setup' });
    await setChampion(db.knex, { model: 'flights', version: '1.0.0', actor: 'setup' });
    // June 1–4, 2001: 67,000 real flights, scored by both versions walking forward.
    const replay = await flightsReplay({
      artifacts,
      from: localDay('2001-06-01'),
      to: localDay('2001-06-05'),
    });
    expect(replay.accuracy('1.1.0')).toBeGreaterThan(replay.accuracy('1.0.0'));
    const traffic = await startTraffic({
      databaseUrl: db.url,
      model: 'flights',
      profiles: { '1.0.0': { noise: 0 }, '1.1.0': { noise: 0 } },
      workload: replay,
      ratePerSecond: 3000,
    });
    try {
      const policy: PolicyInput = {
        approval: { required: false },
        stages: [{ mode: 'canary', weight: 50, duration: '15s' }],
        analysis: { interval: '1s', minSamples: 1000, maxExtension: '30s', tuningN: 20_000 },
        primaryMetric: {
          name: 'correct',
          direction: 'higher',
          minImprovement: 0,
          rollbackRelativeDegradation: 0.05,
        },
        guardrails: [
          { metric: 'error', max: 0.01 },
          { metric: 'log_loss', maxRelativeIncrease: 0.02, rollbackRelativeIncrease: 0.1 },
        ],
        onInconclusive: 'rollback',
        watch: { duration: '1s' },
      };
      const { rolloutId } = await arena.startRollout({
        model: 'flights',
        challenger: '1.1.0',
        policy,
        proposedBy: 'dana',
      });
      const final = await arena.result(rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.reasons)).toBe('promoted');
      const analyses = (await db.knex('analyses').where({ rollout_id: rolloutId }).pluck('result')) as Array<{
        mode: string;
        details: GateResult;
      }>;
      const decided = analyses.find((a) => a.mode === 'final')!.details;
      const accuracy = decided.metrics[0]!;
      expect(accuracy).toMatchObject({ metric: 'correct', status: 'pass' });
      expect(accuracy.challenger.value).toBeGreaterThan(accuracy.champion.value);
      // The seed's fixed-horizon two-proportion z-test is reported beside the sequential decision.
      expect(accuracy.twoProportionZ?.z).toBeGreaterThan(2);
      expect(accuracy.twoProportionZ?.n[0]).toBe(accuracy.challenger.n);
      const logLoss = decided.guardrails.find((g) => g.metric === 'log_loss')!;
      expect(logLoss.status).toBe('pass');
      expect(logLoss.challenger.value).toBeLessThan(logLoss.champion.value);
    } finally {
      await traffic.stop();
    }
  }, 180_000);
});
