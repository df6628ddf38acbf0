import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../../../src/analysis/analyze.js';
import type { AnalyzeInput } from '../../../src/analysis/analyze-input.js';
import { rollupMetricSource } from '../../../src/analysis/rollup-source.js';
import { createRecorder } from '../../../src/ingest/recorder.js';
import { MAX_SEGMENTS_PER_MODEL } from '../../../src/ingest/limits.js';
import { parsePolicy, type PolicyInput } from '../../../src/policy/policy.js';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { pinSegments } from '../../../src/routing/segment-pins.js';
import { getRouting } from '../../../src/routing/store.js';
import { decide } from '../../../src/routing/table.js';
import type { GateResult } from '../../../src/stats/gate/index.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
const WINDOW_MS = 60_000;
/** Traffic share per origin; S1–S3 fall outside the policy's top 3 and are judged together as "(other)". */
const ORIGINS: Array<[string, number]> = [
  ['ORD', 0.4],
  ['DEN', 0.3],
  ['ATL', 0.2],
  ['S1', 0.04],
  ['S2', 0.03],
  ['S3', 0.03],
];
/** Accuracy per version: the challenger is better everywhere but ATL. */
const accuracy = (version: string, origin: string): number =>
  version === '1.0.0' ? 0.8 : origin === 'ATL' ? 0.7 : 0.88;

describe('per-segment consistency check on real rollups', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('segments');
    for (const version of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'flights', version, actor: 't' });
    await setChampion(db.knex, { model: 'flights', version: '1.0.0', actor: 't' });
    await registerVersion(db.knex, { model: 'many', version: '1.0.0', actor: 't' });
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    // Two canary stages of 10 % and 50 %: exact counts per (stage, version, origin), the first
    // accuracy·n of them correct.
    const predictions: unknown[] = [];
    const feedback: unknown[] = [];
    [0.1, 0.5].forEach((weight, stage) => {
      for (const [version, share] of [
        ['1.0.0', 1 - weight],
        ['1.1.0', weight],
      ] as const) {
        for (const [origin, originShare] of ORIGINS) {
          const n = Math.round(10_000 * share * originShare);
          const correct = Math.round(n * accuracy(version, origin));
          for (let i = 0; i < n; i++) {
            const requestId = `${stage}-${version}-${origin}-${i}`;
            predictions.push({
              requestId,
              model: 'flights',
              version,
              prediction: true,
              probability: 0.7,
              segment: origin,
              at: new Date(T0 + stage * WINDOW_MS + ((i * 7919) % 59_000)).toISOString(),
            });
            feedback.push({ model: 'flights', requestId, actual: i < correct });
          }
        }
      }
    });
    expect((await recorder.recordPredictions(predictions, { durable: true })).rejected).toEqual([]);
    expect((await recorder.recordFeedbackBatch(feedback, { durable: true })).rejected).toEqual([]);
    // More distinct segments than a model tracks.
    const many = Array.from({ length: MAX_SEGMENTS_PER_MODEL + 5 }, (_, i) => ({
      requestId: `m${i}`,
      model: 'many',
      version: '1.0.0',
      prediction: 1,
      // A named metric: what segment rollups keep (error and latency are judged pooled only).
      metrics: { revenue: 2 },
      segment: `s${String(i).padStart(3, '0')}`,
      at: new Date(T0).toISOString(),
    }));
    expect((await recorder.recordPredictions(many, { durable: true })).rejected).toEqual([]);
    await recorder.close();
  });
  afterAll(async () => db?.drop());

  const input = (segments: PolicyInput['segments']): AnalyzeInput => ({
    tenantId: 'default',
    rolloutId: 'r-seg',
    seq: 1,
    stageIndex: 1,
    mode: 'final',
    model: 'flights',
    champion: '1.0.0',
    challenger: '1.1.0',
    windows: [0, 1].map((index) => ({
      index,
      from: new Date(T0 + index * WINDOW_MS).toISOString(),
      to: new Date(T0 + (index + 1) * WINDOW_MS).toISOString(),
      mode: 'canary' as const,
    })),
    policy: parsePolicy({
      stages: [
        { mode: 'canary', weight: 10, duration: '1m' },
        { mode: 'canary', weight: 50, duration: '1m' },
      ],
      primaryMetric: { name: 'correct', direction: 'higher', minImprovement: 0.02 },
      guardrails: [],
      analysis: { minSamples: 200, routingSettle: '0s' },
      segments,
    }),
  });
  const run = (segments: PolicyInput['segments']) =>
    analyze(input(segments), rollupMetricSource(db.knex, 1000), () => new Date(T0 + 2 * WINDOW_MS));

  it('block: the pooled accuracy passes, ATL is significantly worse, and the gate rolls back', async () => {
    const v = await run({ top: 3, minSamples: 200 });
    const gate = v.details as GateResult;
    expect(gate.metrics[0]!.status).toBe('pass');
    expect(v.decision).toBe('fail');
    expect(gate.segments!.worse).toEqual(['ATL']);
    expect(v.summary).toMatch(/significantly worse under the challenger in ATL/);
    // The top 3 by traffic, and the rest as one; the forest plot's rows.
    const rows = gate.segments!.verdicts;
    expect(rows.map((r) => r.segment)).toEqual(['ORD', 'DEN', 'ATL', '(other)']);
    expect(rows[3]!.n).toEqual({ champion: 900 + 500, challenger: 100 + 500 });
    const atl = rows[2]!;
    expect(atl.improvement).toBeCloseTo(0.7 / 0.8 - 1, 2);
    expect(atl.interval![1]).toBeLessThan(0);
    expect(v.partialAdoption).toBeUndefined();
  });

  it('partial: the gate passes, leaving ATL on the champion, and the routing pin serves it there', async () => {
    const v = await run({ top: 3, minSamples: 200, onWorse: 'partial', key: 'origin' });
    expect(v.decision).toBe('pass');
    expect(v.partialAdoption).toEqual({ key: 'origin', exclude: ['ATL'] });

    await setChampion(db.knex, { model: 'flights', version: '1.1.0', actor: 't' });
    const pin = {
      model: 'flights',
      key: 'origin',
      values: v.partialAdoption!.exclude,
      version: '1.0.0',
      actor: 'arena',
      idempotencyKey: 'r-seg:partial',
    };
    await pinSegments(db.knex, pin);
    await pinSegments(db.knex, pin); // a retried activity changes nothing
    const entry = await getRouting(db.knex, 'flights');
    expect(entry.segmentOverrides).toEqual([{ key: 'origin', value: 'ATL', version: '1.0.0' }]);
    expect(decide(entry, 'q1', { segments: { origin: 'ATL' } }).serve).toBe('1.0.0');
    expect(decide(entry, 'q1', { segments: { origin: 'ORD' } }).serve).toBe('1.1.0');
    expect(decide(entry, 'q1').serve).toBe('1.1.0');
  });

  it('tracks at most MAX_SEGMENTS_PER_MODEL segments of a model; the rest are summed as "(other)"', async () => {
    const { n } = (await db.knex('model_segments').where({ model: 'many' }).count({ n: '*' }).first()) as {
      n: string;
    };
    expect(Number(n)).toBe(MAX_SEGMENTS_PER_MODEL);
    const rows = await db
      .knex('segment_rollups')
      .where({ model: 'many', metric: 'revenue' })
      .select('segment', 'count');
    expect(rows).toHaveLength(MAX_SEGMENTS_PER_MODEL + 1);
    const other = rows.find((r: { segment: string }) => r.segment === '(other)');
    expect(Number(other.count)).toBe(5);
    // Nothing is kept per segment for the guardrails.
    expect(await db.knex('segment_rollups').where({ model: 'many', metric: 'error' })).toEqual([]);
  });

  it('refuses a prediction that names the reserved "(other)" segment', async () => {
    const recorder = createRecorder({ databaseUrl: db.url, bucketSeconds: 1 });
    const outcome = await recorder.recordPredictions(
      [{ requestId: 'x', model: 'flights', version: '1.0.0', prediction: true, segment: '(other)' }],
      { durable: true },
    );
    await recorder.close();
    expect(outcome.rejected).toEqual([
      { index: 0, field: 'segment', reason: '"(other)" is reserved for untracked segments' },
    ]);
  });
});
