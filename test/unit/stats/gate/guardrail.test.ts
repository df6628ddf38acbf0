import { describe, expect, it } from 'vitest';
import type { SampleSize, TestedFigures } from '../../../../src/stats/gate/findings.js';
import { GuardrailBuilder, settleGuardrails } from '../../../../src/stats/gate/guardrail-builder.js';
import { evaluateGuardrails } from '../../../../src/stats/gate/guardrail.js';
import { independent, quantiles } from '../../../../src/stats/gate/evidence.js';
import { sequentialRho } from '../../../../src/stats/sequential.js';
import { StatsInputError } from '../../../../src/stats/errors.js';

const sample: SampleSize = { kind: 'arms', challenger: 2000, champion: 2000 };
const arms = { n: 2000, value: 1 };
const level = (kind: 'max' | 'rollbackAbove', estimate: number, upper: number): TestedFigures => ({
  code: 'level',
  kind,
  proportion: false,
  estimate,
  limit: 100,
  interval: [estimate - 1, upper],
  alpha: 0.05,
  sample,
});

function ready(metric: string): GuardrailBuilder {
  const b = new GuardrailBuilder({ metric, max: 100, rollbackAbove: 100 });
  expect(b.observe({ analysis: 'independent', champion: arms, challenger: arms, sample }, 1000)).toBe(true);
  return b;
}

describe('guardrail builder', () => {
  it('waits without evidence or below minSamples, with no checks', () => {
    const empty = new GuardrailBuilder({ metric: 'error', max: 0.01 });
    expect(empty.pValues()).toEqual([]);
    expect(empty.build([], 0.05)).toEqual({
      metric: 'error',
      status: 'waiting',
      analysis: 'independent',
      descriptive: false,
      champion: { n: 0, value: 0 },
      challenger: { n: 0, value: 0 },
      checks: [],
      reason: 'error: waiting for data: nothing recorded yet.',
    });
    const few = new GuardrailBuilder({ metric: 'latency_ms', quantile: 0.95, max: 500 });
    expect(
      few.observe({ analysis: 'quantile', champion: arms, challenger: { n: 10, value: 2 }, sample }, 1000),
    ).toBe(false);
    const v = few.build([], 0.05);
    expect(v).toMatchObject({
      status: 'waiting',
      quantile: 0.95,
      descriptive: true,
      challenger: { n: 10, value: 2 },
    });
  });

  it('settles a tested check by its Holm-adjusted p-value and keeps nothing provisional', () => {
    const b = ready('a');
    b.addTested(level('max', 99, 99.5), 0.5);
    b.addTested(level('rollbackAbove', 99, 99.5), 1);
    expect(b.pValues()).toEqual([0.5, 1]);
    const pass = b.build([0.5, 1], 0.05);
    expect(pass.status).toBe('pass');
    expect(pass.checks.map((c) => c.status)).toEqual(['pass', 'pass']);
    expect(Object.keys(pass)).toEqual([
      'metric',
      'status',
      'analysis',
      'descriptive',
      'champion',
      'challenger',
      'checks',
      'reason',
    ]);
    expect(Object.keys(pass.checks[0]!)).toEqual([
      'kind',
      'limit',
      'scale',
      'status',
      'estimate',
      'interval',
      'pValue',
      'adjustedPValue',
      'reason',
    ]);
    // The same figures with an adjusted p below alpha: a breach, and the reason leads with it.
    const fail = b.build([0.01, 1], 0.05);
    expect(fail.checks[0]).toMatchObject({ status: 'fail', pValue: 0.5, adjustedPValue: 0.01 });
    expect(fail.reason).toBe(fail.checks[0]!.reason);
  });

  it('a promotion limit still reached by the interval is inconclusive; a rollback limit holds', () => {
    const b = ready('a');
    b.addTested(level('max', 99, 101), 1);
    b.addTested(level('rollbackAbove', 99, 101), 1);
    const v = b.build([1, 1], 0.05);
    expect(v.checks.map((c) => c.status)).toEqual(['inconclusive', 'pass']);
    expect(v.status).toBe('inconclusive');
    expect(v.reason).toMatch(/Inconclusive: the interval still reaches the limit\.$/);
  });

  it('settleGuardrails adjusts the tested checks of every guardrail as one Holm family', () => {
    const a = ready('a');
    a.addTested(level('max', 101, 102), 0.03);
    const b = ready('b');
    b.addSettled({
      kind: 'maxRelativeIncrease',
      limit: 0.2,
      status: 'pass',
      estimate: 0.1,
      finding: {
        code: 'quantile-increase',
        challenger: 1.1,
        champion: 1,
        increase: 0.1,
        limit: 0.2,
        sample,
        breach: false,
      },
    });
    b.addTested(level('max', 101, 102), 0.04);
    const [va, vb] = settleGuardrails([a, b], 0.05);
    expect(va!.checks[0]!.adjustedPValue).toBeCloseTo(0.06, 12);
    expect(vb!.checks.map((c) => c.adjustedPValue)).toEqual([null, 0.06]);
    expect([va!.status, vb!.status]).toEqual(['inconclusive', 'inconclusive']);
  });
});

describe('guardrail evaluation', () => {
  const analysis = { alpha: 0.05, minSamples: 1000, tuningN: 20000 };
  const rho = sequentialRho(0.05, 20000);

  it('checks limits in policy order: max, maxRelativeIncrease, rollbackAbove, rollbackRelativeIncrease', () => {
    const s = (mean: number) => ({ n: 5000, mean, variance: 4 });
    const [v] = evaluateGuardrails(
      [{ metric: 'm', rollbackRelativeIncrease: 1, rollbackAbove: 50, maxRelativeIncrease: 0.2, max: 30 }],
      { m: independent(s(20), s(21)) },
      analysis,
      rho,
    );
    expect(v!.checks.map((c) => c.kind)).toEqual([
      'max',
      'maxRelativeIncrease',
      'rollbackAbove',
      'rollbackRelativeIncrease',
    ]);
    expect(v!.checks.map((c) => c.scale)).toEqual(['absolute', 'relative', 'absolute', 'relative']);
  });

  it('quantile checks: absolute limits first, then relative ones, all descriptive', () => {
    const [v] = evaluateGuardrails(
      [
        {
          metric: 'latency_ms',
          quantile: 0.95,
          rollbackRelativeIncrease: 1,
          maxRelativeIncrease: 0.2,
          max: 500,
        },
      ],
      { latency_ms: quantiles(0.95, { n: 5000, value: 300 }, { n: 5000, value: 330 }) },
      analysis,
      rho,
    );
    expect(v!.checks.map((c) => [c.kind, c.status, c.pValue])).toEqual([
      ['max', 'pass', null],
      ['maxRelativeIncrease', 'pass', null],
      ['rollbackRelativeIncrease', 'pass', null],
    ]);
    expect(v!.checks[1]!.estimate).toBeCloseTo(0.1, 12);
  });

  it('refuses a guardrail without a limit, and quantile evidence on the wrong quantile', () => {
    expect(() => evaluateGuardrails([{ metric: 'm' }], {}, analysis, rho)).toThrow(/at least one limit/);
    const wrong = { latency_ms: quantiles(0.5, { n: 5000, value: 300 }, { n: 5000, value: 330 }) };
    expect(() =>
      evaluateGuardrails([{ metric: 'latency_ms', quantile: 0.95, max: 500 }], wrong, analysis, rho),
    ).toThrow(StatsInputError);
  });
});
