import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, parsePolicy } from '../../../../src/policy/policy.js';
import { evaluateGate, independent } from '../../../../src/stats/gate/index.js';
import { StatsInputError } from '../../../../src/stats/errors.js';

const s = (mean: number, sd: number, n = 20000) => ({ n, mean, variance: sd * sd });

describe('evaluateGate', () => {
  it('takes a policy as the schema parses it: the validation lives there', () => {
    const r = evaluateGate({ metrics: {} }, DEFAULT_POLICY);
    expect(r.decision).toBe('waiting');
    expect(r.guardrails.map((g) => g.metric)).toEqual(['error', 'latency_ms', 'memory_mb']);
    const accuracy = parsePolicy({ primaryMetric: { name: 'correct', direction: 'higher' }, guardrails: [] });
    const win = evaluateGate(
      { metrics: { correct: independent({ successes: 17000, n: 20000 }, { successes: 18000, n: 20000 }) } },
      accuracy,
    );
    expect(win).toMatchObject({ decision: 'pass', action: 'promote', alpha: 0.05 });
  });

  it('one action per decision', () => {
    const policy = {
      primaryMetric: { name: 'm', direction: 'lower' as const, minImprovement: 0.02 },
      analysis: { alpha: 0.05, minSamples: 1000, tuningN: 20000 },
    };
    const action = (challenger: number) =>
      evaluateGate({ metrics: { m: independent(s(10, 5), s(challenger, 5)) } }, policy).action;
    expect(action(9.5)).toBe('promote');
    expect(action(9.9)).toBe('continue');
    expect(evaluateGate({ metrics: {} }, policy).action).toBe('continue');
    const invalid = evaluateGate(
      { metrics: {}, srm: { observed: [9380, 620], expectedWeights: [0.95, 0.05] } },
      policy,
    );
    expect([invalid.decision, invalid.action]).toEqual(['invalid', 'pause']);
  });

  it('keeps the guards the types cannot express: alpha in (0, 1) and at least one primary metric', () => {
    const analysis = { alpha: 0.05, minSamples: 1000, tuningN: 20000 };
    expect(() => evaluateGate({ metrics: {} }, { primaryMetric: [], analysis })).toThrow(
      new StatsInputError('primaryMetric', [], 'needs at least one metric'),
    );
    const m = { name: 'm', direction: 'lower' as const, minImprovement: 0 };
    expect(() =>
      evaluateGate({ metrics: {} }, { primaryMetric: m, analysis: { ...analysis, alpha: 0 } }),
    ).toThrow(/analysis\.alpha = 0: must lie strictly between 0 and 1/);
  });
});
