import { describe, expect, it } from 'vitest';
import { independent, stratified } from '../../../../src/stats/gate/evidence.js';
import { evaluateGate } from '../../../../src/stats/gate/evaluate.js';
import { summarizeGate } from '../../../../src/stats/gate/format.js';
import { evaluatePrimary } from '../../../../src/stats/gate/primary.js';
import { assessSegments } from '../../../../src/stats/gate/segments.js';
import { holm } from '../../../../src/stats/multiple-testing.js';
import { sequentialRho } from '../../../../src/stats/sequential.js';
import { simulateSegmentAa } from '../../../../src/stats/simulate-segments.js';

const policy = { direction: 'higher' as const, alpha: 0.05, tuningN: 20_000, minSamples: 1000 };
const counts = (successes: number, n: number) => ({ successes, n });

describe('per-segment consistency: is any segment significantly worse?', () => {
  it('flags the one segment where the challenger is worse, Holm-adjusted, and leaves the others', () => {
    const v = assessSegments(
      [
        { segment: 'ORD', evidence: independent(counts(8000, 10_000), counts(8300, 10_000)) },
        { segment: 'ATL', evidence: independent(counts(8000, 10_000), counts(7600, 10_000)) },
        { segment: 'LAX', evidence: independent(counts(8000, 10_000), counts(8010, 10_000)) },
        { segment: 'SMF', evidence: independent(counts(40, 50), counts(20, 50)) },
      ],
      policy,
    );
    expect(v.map((s) => [s.segment, s.tested, s.worse])).toEqual([
      ['ORD', true, false],
      ['ATL', true, true],
      ['LAX', true, false],
      // Too few samples: not judged, so never "worse" however bad it looks.
      ['SMF', false, false],
    ]);
    const atl = v[1]!;
    expect(atl.improvement).toBeCloseTo(-0.05, 10);
    expect(atl.interval![1]).toBeLessThan(0);
    // Better segments are no evidence of worse: p = 1.
    expect(v[0]!.pValue).toBe(1);
    expect(v.slice(0, 3).map((s) => s.adjustedPValue)).toEqual(holm(v.slice(0, 3).map((s) => s.pValue!)));
  });

  it('tolerates a margin: 1 % worse is not "worse" with a 2 % margin', () => {
    const evidence = independent(counts(80_000, 100_000), counts(79_200, 100_000));
    expect(assessSegments([{ segment: 'A', evidence }], policy)[0]!.worse).toBe(true);
    expect(assessSegments([{ segment: 'A', evidence }], { ...policy, margin: 0.02 })[0]!.worse).toBe(false);
  });

  it('stratifies where pooling would decide wrong (Simpson’s paradox, the mix shifting between stages)', () => {
    // Stage 1 (10 % canary) is mostly the easy segment, stage 2 (50 %) mostly the hard one. In every
    // stage and segment the challenger is 2 points more accurate; pooled, it looks 7 points worse, because
    // its requests come mostly from the hard stage and the champion's from the easy one.
    const easy = { champion: 0.9, challenger: 0.92 };
    const hard = { champion: 0.6, challenger: 0.62 };
    const stage1 = { champion: 90_000, challenger: 10_000, easyShare: 0.9 };
    const stage2 = { champion: 50_000, challenger: 50_000, easyShare: 0.1 };
    const cell = (stage: typeof stage1, arm: 'champion' | 'challenger', segment: 'easy' | 'hard') => {
      const n = Math.round(stage[arm] * (segment === 'easy' ? stage.easyShare : 1 - stage.easyShare));
      return counts(Math.round(n * (segment === 'easy' ? easy : hard)[arm]), n);
    };
    const strata = [stage1, stage2].flatMap((stage) =>
      (['easy', 'hard'] as const).map((segment) => ({
        champion: cell(stage, 'champion', segment),
        challenger: cell(stage, 'challenger', segment),
      })),
    );
    const sum = (arm: 'champion' | 'challenger') =>
      strata.reduce((a, s) => counts(a.successes + s[arm].successes, a.n + s[arm].n), counts(0, 0));
    const accuracy = {
      name: 'correct',
      direction: 'higher' as const,
      minImprovement: 0,
      rollbackRelativeDegradation: 0.01,
    };
    const analysis = { alpha: 0.05, minSamples: 1000, tuningN: 20_000, skewnessFactor: 0 };
    const rho = sequentialRho(0.05, 20_000);
    const pooled = evaluatePrimary(accuracy, independent(sum('champion'), sum('challenger')), analysis, rho);
    const byStratum = evaluatePrimary(accuracy, stratified(strata), analysis, rho);
    expect(pooled.improvement.estimate).toBeLessThan(-0.05);
    expect(pooled.status).toBe('fail');
    expect(byStratum.improvement.estimate).toBeGreaterThan(0.02);
    expect(byStratum.status).toBe('pass');
  });

  it('keeps the A/A rate of flagging any segment at or below alpha over many looks (small simulation)', () => {
    const r = simulateSegmentAa({ rollouts: 200, segments: 20, looks: 50, seed: 7 });
    expect(r.adjusted).toBeLessThanOrEqual(0.05);
    expect(r.unadjusted).toBeGreaterThan(r.adjusted);
  });
});

describe('the gate with a segment check', () => {
  const gatePolicy = (onWorse: 'block' | 'partial') => ({
    primaryMetric: { name: 'correct', direction: 'higher' as const, minImprovement: 0 },
    analysis: { alpha: 0.05, minSamples: 1000, tuningN: 20_000, skewnessFactor: 0 },
    segmentCheck: {
      metric: 'correct',
      direction: 'higher' as const,
      minSamples: 1000,
      onWorse,
      otherSegment: '(other)',
    },
  });
  const pooled = { correct: independent(counts(80_000, 100_000), counts(81_500, 100_000)) };
  const segments = (worse: string) => [
    { segment: 'ORD', evidence: independent(counts(40_000, 50_000), counts(41_500, 50_000)) },
    { segment: worse, evidence: independent(counts(8000, 10_000), counts(7500, 10_000)) },
  ];

  it('block: a worse segment fails the gate although the pooled estimate passes', () => {
    const g = evaluateGate({ metrics: pooled, segments: segments('ATL') }, gatePolicy('block'));
    expect(g.metrics[0]!.status).toBe('pass');
    expect(g.decision).toBe('fail');
    expect(g.segments!.worse).toEqual(['ATL']);
    expect(g.segments!.exclude).toEqual([]);
    expect(summarizeGate(g)).toMatch(
      /significantly worse under the challenger in ATL \(-6\.25%, adjusted p = /,
    );
  });

  it('partial: the gate passes and names the segments to leave on the champion', () => {
    const g = evaluateGate({ metrics: pooled, segments: segments('ATL') }, gatePolicy('partial'));
    expect(g.decision).toBe('pass');
    expect(g.segments!.exclude).toEqual(['ATL']);
    expect(g.segments!.reason).toMatch(/partial adoption/);
  });

  it('partial cannot leave out the rest of the traffic: "(other)" worse blocks', () => {
    const g = evaluateGate({ metrics: pooled, segments: segments('(other)') }, gatePolicy('partial'));
    expect(g.decision).toBe('fail');
    expect(g.segments!.reason).toMatch(/cannot leave out/);
  });

  it('no segment data holds the decision (waiting), never promotes', () => {
    const g = evaluateGate({ metrics: pooled, segments: [] }, gatePolicy('block'));
    expect(g.decision).toBe('waiting');
  });
});
