import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../src/analysis/analyze.js';
import type { AnalyzeInput } from '../../../src/analysis/analyze-input.js';
import { rollupMetricSource } from '../../../src/analysis/rollup-source.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { parsePolicy, type PolicyInput } from '../../../src/policy/policy.js';
import { registerVersion } from '../../../src/registry/registry.js';
import { capAtQuantile } from '../../../src/stats/capping.js';
import type { GateResult } from '../../../src/stats/gate/index.js';
import { createRng, summarize } from '../../../src/stats/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';
import { momentBinsOf } from '../../support/moment-bins.js';

/**
 * A heavy-tailed metric on real rollups (issue #23): by default the gate waits for the sample its skewness
 * needs instead of deciding; capped at the champion's p99 from its history before the stage, the capped
 * moments (exact from the bins' sums) are far less skewed and the same data decide.
 */

const HOUR = 3_600_000;
const STAGE_START = Date.UTC(2026, 10, 20, 12);
const STAGE_END = STAGE_START + HOUR;
const PER_ARM = 8000;

describe('a heavy-tailed primary metric on real rollups', () => {
  let db: TestDatabase;
  const history: number[] = [];
  const stage = { champion: [] as number[], challenger: [] as number[] };

  beforeAll(async () => {
    db = await createTestDatabase('skewed_metrics');
    for (const v of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'heavy', version: v, actor: 't' });
    const rng = createRng(2026);
    // lognormal σ = 1.5: population skewness 33; the challenger's values are 30% lower.
    const draw = (scale: number) => scale * Math.exp(1.5 * rng.normal());
    const recorder = createRecorder({ databaseUrl: db.url, batchSize: 500, flushIntervalMs: 10 });
    const records = [];
    for (let i = 0; i < PER_ARM; i++) {
      const loss = draw(1);
      history.push(loss);
      records.push({
        requestId: `h${i}`,
        model: 'heavy',
        version: '1.0.0',
        prediction: 1,
        metrics: { loss },
        at: new Date(STAGE_START - 2 * HOUR + (i * HOUR) / PER_ARM).toISOString(),
      });
    }
    for (let i = 0; i < PER_ARM; i++) {
      for (const [version, scale, sink] of [
        ['1.0.0', 1, stage.champion],
        ['1.1.0', 0.7, stage.challenger],
      ] as const) {
        const loss = draw(scale);
        sink.push(loss);
        records.push({
          requestId: `${version}-${i}`,
          model: 'heavy',
          version,
          prediction: 1,
          metrics: { loss },
          at: new Date(STAGE_START + (i * HOUR) / PER_ARM).toISOString(),
        });
      }
    }
    for (let i = 0; i < records.length; i += 1000)
      await recorder.recordPredictions(records.slice(i, i + 1000), { durable: true });
    await recorder.close();
  });
  afterAll(async () => db?.drop());

  const input = (primary: PolicyInput['primaryMetric']): AnalyzeInput => ({
    tenantId: 'default',
    rolloutId: 'r-heavy',
    seq: 1,
    stageIndex: 0,
    mode: 'canary',
    model: 'heavy',
    champion: '1.0.0',
    challenger: '1.1.0',
    windows: [
      {
        index: 0,
        from: new Date(STAGE_START).toISOString(),
        to: new Date(STAGE_END).toISOString(),
        mode: 'canary',
      },
    ],
    policy: parsePolicy({
      stages: [{ mode: 'canary', weight: 50, duration: '1h' }],
      primaryMetric: primary,
      guardrails: [],
    }),
  });
  const run = (primary: PolicyInput['primaryMetric']) =>
    analyze(input(primary), rollupMetricSource(db.knex, 60_000), () => new Date(STAGE_END));

  it('waits, and says why, on the uncapped metric under the default floor', async () => {
    const verdict = await run({ name: 'loss', direction: 'lower' });
    expect(verdict.decision).toBe('waiting');
    const m = (verdict.details as GateResult).metrics[0]!;
    // The rollups' sum of cubes gives the same skewness as the raw values.
    const exact = Math.max(
      Math.abs(summarize(stage.champion).skewness!),
      Math.abs(summarize(stage.challenger).skewness!),
    );
    expect(m.shape!.skewness).toBeCloseTo(exact, 6);
    expect(m.shape!.floor).toBeGreaterThan(PER_ARM);
    expect(m.reason).toContain('loss is strongly skewed');
    expect(verdict.caps).toBeUndefined();
  });

  it('capped at the champion’s p99 before the stage: exact capped moments, a lower floor, a decision', async () => {
    const verdict = await run({
      name: 'loss',
      direction: 'lower',
      cap: { quantile: 0.99, lookback: '1d' },
    });
    const cap = capAtQuantile(momentBinsOf(history), 0.99)!;
    expect(verdict.caps).toEqual([
      expect.objectContaining({
        metric: 'loss',
        stageIndex: 0,
        cap,
        quantile: 0.99,
        basis: {
          from: new Date(STAGE_START - 24 * HOUR).toISOString(),
          to: new Date(STAGE_START).toISOString(),
          n: PER_ARM,
        },
      }),
    ]);
    const m = (verdict.details as GateResult).metrics[0]!;
    const capped = (xs: number[]) => summarize(xs.map((x) => Math.min(x, cap)));
    expect(m.champion.value).toBeCloseTo(capped(stage.champion).mean, 9);
    expect(m.challenger.value).toBeCloseTo(capped(stage.challenger).mean, 9);
    expect(m.shape!.floor).toBeLessThan(PER_ARM);
    expect(verdict.decision).toBe('pass');
    expect(verdict.reasons).toContain(verdict.caps![0]!.note);
  });
});
