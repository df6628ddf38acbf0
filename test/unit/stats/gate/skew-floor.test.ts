import { describe, expect, it } from 'vitest';
import {
  createRng,
  evaluateGate,
  independent,
  paired,
  summarize,
  type GatePolicy,
  type Summary,
} from '../../../../src/stats/index.js';
import { bernoulliSkewness, skewnessFloor } from '../../../../src/stats/shape.js';

const analysis = { alpha: 0.05, minSamples: 1000, tuningN: 20000 };
const policy = (extra: Partial<GatePolicy> = {}): GatePolicy => ({
  primaryMetric: {
    name: 'abs_error',
    direction: 'lower',
    minImprovement: 0,
    rollbackRelativeDegradation: 0.05,
  },
  analysis,
  ...extra,
});

/** n draws of exp(σ·Z): lognormal σ = 2.5 has population skewness near 12,000. */
function lognormal(seed: number, n: number, sigma: number, scale = 1): Summary {
  const rng = createRng(seed);
  return summarize(Array.from({ length: n }, () => scale * Math.exp(sigma * rng.normal())));
}

function halfNormal(seed: number, n: number, scale = 1): Summary {
  const rng = createRng(seed);
  return summarize(Array.from({ length: n }, () => scale * Math.abs(rng.normal())));
}

describe('skewness-aware sample floor', () => {
  it('is Kohavi’s n ≥ 355·s² per arm, with the Bernoulli skewness for rates', () => {
    expect(skewnessFloor(2)).toBe(1420);
    expect(skewnessFloor(2, 0)).toBe(0);
    expect(bernoulliSkewness(0.5)).toBe(0);
    expect(bernoulliSkewness(0)).toBe(0);
    expect(skewnessFloor(bernoulliSkewness(0.001))).toBe(353_936);
  });

  it('waits on a strongly skewed sample that the gate would otherwise pass', () => {
    // A challenger 30% better on a lognormal σ = 2.5 metric, 20,000 per arm: clear enough for the
    // confidence sequence, but the sample skewness (dozens) calls for hundreds of thousands per arm.
    const champion = lognormal(1, 20_000, 2.5);
    const challenger = lognormal(2, 20_000, 2.5, 0.5);
    const input = { metrics: { abs_error: independent(champion, challenger) } };
    const off = evaluateGate(input, policy({ analysis: { ...analysis, skewnessFactor: 0 } }));
    expect(off.metrics[0]!.shape).toBeUndefined();
    expect(off.decision).toBe('pass');
    const gate = evaluateGate(input, policy());
    expect(gate.decision).toBe('waiting');
    const v = gate.metrics[0]!;
    expect(v.status).toBe('waiting');
    expect(v.shape!.skewness).toBeGreaterThan(20);
    expect(v.shape!.floor).toBe(skewnessFloor(v.shape!.skewness));
    expect(v.reason).toMatch(
      /^abs_error: waiting: abs_error is strongly skewed \(s = \d+\); needs n ≥ [\d,]+ per arm/,
    );
    expect(v.reason).toContain('n = 20000 challenger / 20000 champion');
  });

  it('decides on a symmetric-enough sample as before', () => {
    // Half-normal values: skewness ≈ 1, floor ≈ 355, below minSamples.
    const gate = evaluateGate(
      { metrics: { abs_error: independent(halfNormal(3, 20_000, 10), halfNormal(4, 20_000, 8)) } },
      policy(),
    );
    expect(gate.decision).toBe('pass');
    expect(gate.metrics[0]!.shape!.skewness).toBeLessThan(1.2);
    expect(gate.metrics[0]!.shape!.floor).toBeLessThan(analysis.minSamples);
  });

  it('does not promote a challenger with no rare events against a champion with one', () => {
    // The relative lift is −100% with a delta-method se of 0: a zero-width interval that used to pass.
    const gate = evaluateGate(
      { metrics: { abs_error: independent({ successes: 1, n: 1000 }, { successes: 0, n: 1000 }) } },
      policy(),
    );
    expect(gate.decision).toBe('waiting');
    expect(gate.metrics[0]!.shape!.floor).toBe(skewnessFloor(bernoulliSkewness(0.001)));
  });

  it('leaves the shape unknown, and the floor off, for summaries without a skewness', () => {
    const c = { ...lognormal(1, 20_000, 2.5) };
    const t = { ...lognormal(2, 20_000, 2.5, 0.5) };
    delete c.skewness;
    delete t.skewness;
    const gate = evaluateGate({ metrics: { abs_error: independent(c, t) } }, policy());
    expect(gate.metrics[0]!.shape).toBeUndefined();
    expect(gate.metrics[0]!.status).not.toBe('waiting');
  });

  it('reads the paired differences’ skewness in shadow mode', () => {
    const d = lognormal(5, 20_000, 2.5, -1);
    const gate = evaluateGate(
      { metrics: { abs_error: paired(d, lognormal(6, 20_000, 2.5), lognormal(7, 20_000, 2.5)) } },
      policy(),
    );
    expect(gate.metrics[0]!.status).toBe('waiting');
    expect(gate.metrics[0]!.shape!.skewness).toBeCloseTo(Math.abs(d.skewness!), 12);
  });

  it('holds a guardrail’s variance-estimating checks, but a rate’s level may still roll back at once', () => {
    const healthy = independent(halfNormal(3, 20_000, 10), halfNormal(4, 20_000, 9));
    // Errors at 10% against a 1% rollback limit: p = 0.1 has skewness 2.7, floor 2,524 > 1,000 per arm.
    const errors = independent({ successes: 10, n: 1000 }, { successes: 100, n: 1000 });
    const gate = evaluateGate(
      { metrics: { abs_error: healthy, error: errors } },
      policy({ guardrails: [{ metric: 'error', rollbackAbove: 0.01, rollbackRelativeIncrease: 1 }] }),
    );
    expect(gate.decision).toBe('fail');
    const g = gate.guardrails[0]!;
    expect(g.status).toBe('fail');
    expect(g.checks.map((c) => c.kind)).toEqual(['rollbackAbove']);
    expect(g.shape!.floor).toBeGreaterThan(1000);

    // Within the level limit, the relative check still waits for the floor: the guardrail waits.
    const mild = independent({ successes: 40, n: 1000 }, { successes: 45, n: 1000 });
    const waiting = evaluateGate(
      { metrics: { abs_error: healthy, error: mild } },
      policy({ guardrails: [{ metric: 'error', rollbackAbove: 0.5, rollbackRelativeIncrease: 1 }] }),
    );
    expect(waiting.guardrails[0]!.status).toBe('waiting');
    expect(waiting.guardrails[0]!.reason).toMatch(/^error: waiting: error is strongly skewed/);
    expect(waiting.decision).toBe('waiting');
  });

  it('holds every check of a guardrail on a skewed continuous metric', () => {
    const healthy = independent(halfNormal(3, 20_000, 10), halfNormal(4, 20_000, 9));
    const gate = evaluateGate(
      {
        metrics: {
          abs_error: healthy,
          memory_mb: independent(lognormal(8, 5000, 2.5), lognormal(9, 5000, 2.5, 3)),
        },
      },
      policy({ guardrails: [{ metric: 'memory_mb', rollbackAbove: 1, max: 1000 }] }),
    );
    expect(gate.guardrails[0]!.status).toBe('waiting');
    expect(gate.guardrails[0]!.checks).toEqual([]);
  });
});
