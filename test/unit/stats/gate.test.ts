import { describe, expect, it } from 'vitest';
import {
  StatsInputError,
  evaluateGate,
  independent,
  paired,
  quantiles,
  sequentialRho,
  stratified,
  type GateInput,
  type GatePolicy,
  type GateResult,
  type Summary,
} from '../../../src/stats/index.js';

/** The default policy of DESIGN.md §7 (the parts the gate reads). */
const POLICY: GatePolicy = {
  primaryMetric: {
    name: 'abs_error',
    direction: 'lower',
    minImprovement: 0.02,
    rollbackRelativeDegradation: 0.05,
  },
  guardrails: [
    { metric: 'error', max: 0.001, rollbackAbove: 0.01 },
    { metric: 'latency_ms', quantile: 0.95, max: 500, rollbackRelativeIncrease: 1.0 },
    { metric: 'memory_mb', maxRelativeIncrease: 0.2, rollbackRelativeIncrease: 0.5 },
  ],
  analysis: { alpha: 0.05, minSamples: 1000, tuningN: 20000 },
};

const N = 20000;
const s = (mean: number, sd: number, n = N): Summary => ({ n, mean, variance: sd * sd });

/** A healthy challenger on every guardrail; scenarios override single metrics. */
function healthy(absError: Summary, overrides: Partial<GateInput['metrics']> = {}): GateInput {
  return {
    metrics: {
      abs_error: independent(s(10, 5), absError),
      error: independent({ successes: 4, n: N }, { successes: 3, n: N }),
      latency_ms: quantiles(0.95, { n: N, value: 300 }, { n: N, value: 310 }),
      memory_mb: independent(s(200, 10), s(204, 10)),
      ...overrides,
    },
    srm: { observed: [N, N], expectedWeights: [0.5, 0.5] },
  };
}

function expectJsonSafe(r: GateResult): void {
  // Everything a workflow stores must survive JSON: no NaN or Infinity anywhere.
  expect(JSON.parse(JSON.stringify(r))).toEqual(r);
}

describe('gate: decisions', () => {
  it('clear win → pass / promote, with its numbers', () => {
    const r = evaluateGate(healthy(s(9.5, 5)), POLICY);
    expect(r.decision).toBe('pass');
    expect(r.action).toBe('promote');
    const m = r.metrics[0]!;
    expect(m.status).toBe('pass');
    expect(m.estimate).toBeCloseTo(-0.05, 12);
    expect(m.improvement.estimate).toBeCloseTo(0.05, 12);
    expect(m.improvement.interval[0]).toBeGreaterThanOrEqual(0.02);
    expect(m.interval[1]).toBeLessThan(0);
    expect(m.pValue).toBeLessThan(1e-10);
    expect(m.champion).toEqual({ n: N, value: 10 });
    expect(m.challenger).toEqual({ n: N, value: 9.5 });
    expect(m.reason).toMatch(/abs_error \(lower is better\): challenger 5% better/);
    expect(m.reason).toMatch(/Pass/);
    // The sequential interval is wider than the fixed-horizon one reported beside it.
    expect(m.interval[1] - m.interval[0]).toBeGreaterThan(
      m.fixedHorizon.interval[1] - m.fixedHorizon.interval[0],
    );
    expect(r.guardrails.map((g) => g.status)).toEqual(['pass', 'pass', 'pass']);
    expect(r.srm?.mismatch).toBe(false);
    expect(r.reasons[0]).toMatch(/^Pass/);
    expectJsonSafe(r);
  });

  it('clear loss → fail / rollback', () => {
    const r = evaluateGate(healthy(s(11, 5)), POLICY);
    expect(r.decision).toBe('fail');
    expect(r.action).toBe('rollback');
    const m = r.metrics[0]!;
    expect(m.status).toBe('fail');
    expect(m.improvement.estimate).toBeCloseTo(-0.1, 12);
    expect(m.rollback!.adjustedPValue).toBeLessThan(0.05);
    expect(m.reason).toMatch(/10% worse.*Fail/);
    expectJsonSafe(r);
  });

  it('worse, but not demonstrably beyond the rollback degradation → inconclusive, flagged futile', () => {
    const r = evaluateGate(healthy(s(10.3, 5)), POLICY);
    expect(r.decision).toBe('inconclusive');
    expect(r.action).toBe('continue');
    expect(r.metrics[0]!.status).toBe('inconclusive');
    expect(r.metrics[0]!.futile).toBe(true);
    expect(r.metrics[0]!.reason).toMatch(/more data will not make it pass/);
  });

  it('a small real improvement below the bar is inconclusive until the interval clears it', () => {
    const r = evaluateGate(healthy(s(9.8, 5)), POLICY);
    expect(r.decision).toBe('inconclusive');
    expect(r.metrics[0]!.pValue).toBeLessThan(0.05); // significant, but not ≥ 2% with confidence
    expect(r.metrics[0]!.futile).toBe(false);
  });

  it('too little data → waiting / continue, never a failure, however bad it looks', () => {
    const input = healthy(s(20, 5, 400), {
      abs_error: independent(s(10, 5, 500), s(20, 5, 400)),
      error: independent({ successes: 0, n: 500 }, { successes: 200, n: 400 }),
    });
    const r = evaluateGate(input, POLICY);
    expect(r.decision).toBe('waiting');
    expect(r.action).toBe('continue');
    expect(r.metrics[0]!.status).toBe('waiting');
    expect(r.metrics[0]!.reason).toMatch(
      /waiting for data: n = 400 challenger \/ 500 champion; 1000 per arm needed/,
    );
    expect(r.guardrails[0]!.status).toBe('waiting');
    expectJsonSafe(r);
  });

  it('a metric with no evidence at all is waiting', () => {
    const r = evaluateGate({ metrics: {} }, { ...POLICY, guardrails: [] });
    expect(r.decision).toBe('waiting');
    expect(r.metrics[0]!.reason).toMatch(/nothing recorded yet/);
  });

  it('sample-ratio mismatch → invalid / pause, even when the challenger would pass', () => {
    const input = { ...healthy(s(9.5, 5)), srm: { observed: [9380, 620], expectedWeights: [0.95, 0.05] } };
    const r = evaluateGate(input, POLICY);
    expect(r.decision).toBe('invalid');
    expect(r.action).toBe('pause');
    expect(r.srm!.mismatch).toBe(true);
    expect(r.srm!.pValue).toBeLessThan(0.001);
    expect(r.reasons[0]).toMatch(/sample-ratio mismatch/);
    expect(r.metrics[0]!.status).toBe('pass'); // the verdicts stay visible for the person investigating
  });

  it('SRM over several stages adds the per-stage chi-squares; tiny counts are not tested', () => {
    const stages = [
      { observed: [9470, 530], expectedWeights: [0.95, 0.05] },
      { observed: [5021, 4979], expectedWeights: [0.5, 0.5] },
    ];
    const r = evaluateGate({ ...healthy(s(9.5, 5)), srm: stages }, POLICY);
    expect(r.srm).toMatchObject({ tested: true, df: 2, mismatch: false });
    expect(r.srm!.chi2).toBeCloseTo(1.8947368421052633 + 0.1764, 10);
    const small = evaluateGate(
      { ...healthy(s(9.5, 5)), srm: { observed: [30, 1], expectedWeights: [0.95, 0.05] } },
      POLICY,
    );
    expect(small.srm).toMatchObject({ tested: false, mismatch: false });
    expect(small.decision).toBe('pass');
  });
});

describe('gate: guardrails', () => {
  it('error rate demonstrably above its 0.1% limit → fail / rollback', () => {
    const r = evaluateGate(
      healthy(s(9.5, 5), { error: independent({ successes: 4, n: N }, { successes: 80, n: N }) }),
      POLICY,
    );
    expect(r.decision).toBe('fail');
    expect(r.action).toBe('rollback');
    const g = r.guardrails[0]!;
    expect(g.status).toBe('fail');
    const max = g.checks.find((c) => c.kind === 'max')!;
    expect(max.status).toBe('fail');
    expect(max.estimate).toBeCloseTo(0.004, 12);
    expect(max.adjustedPValue!).toBeLessThan(0.05);
    expect(g.checks.find((c) => c.kind === 'rollbackAbove')!.status).toBe('pass');
    expect(g.reason).toMatch(/error: challenger 0.4% vs limit 0.1%.*Fail/);
  });

  it('error rate above the 1% rollback level → fail on the rollback check', () => {
    const r = evaluateGate(
      healthy(s(9.5, 5), { error: independent({ successes: 4, n: N }, { successes: 400, n: N }) }),
      POLICY,
    );
    const g = r.guardrails[0]!;
    expect(g.checks.find((c) => c.kind === 'rollbackAbove')!.status).toBe('fail');
    expect(r.decision).toBe('fail');
  });

  it('zero errors in the first requests do not prove a 0.1% limit (score-test variance)', () => {
    const r = evaluateGate(
      healthy(s(9.5, 5), { error: independent({ successes: 0, n: 1500 }, { successes: 0, n: 1500 }) }),
      POLICY,
    );
    const max = r.guardrails[0]!.checks.find((c) => c.kind === 'max')!;
    expect(max.status).toBe('inconclusive');
    expect(max.interval![0]).toBe(0); // clamped: a rate is never negative
    expect(r.decision).toBe('inconclusive');
  });

  it('p95 latency above its limit → fail, compared descriptively', () => {
    const r = evaluateGate(
      healthy(s(9.5, 5), { latency_ms: quantiles(0.95, { n: N, value: 300 }, { n: N, value: 520 }) }),
      POLICY,
    );
    const g = r.guardrails[1]!;
    expect(g).toMatchObject({ status: 'fail', descriptive: true, analysis: 'quantile', quantile: 0.95 });
    expect(g.checks[0]).toMatchObject({
      kind: 'max',
      status: 'fail',
      estimate: 520,
      interval: null,
      pValue: null,
    });
    expect(g.reason).toMatch(/latency_ms p95: challenger 520 vs limit 500 \(descriptive comparison/);
    expect(r.decision).toBe('fail');
  });

  it('latency doubling triggers the relative rollback check', () => {
    const r = evaluateGate(
      healthy(s(9.5, 5), { latency_ms: quantiles(0.95, { n: N, value: 200 }, { n: N, value: 450 }) }),
      POLICY,
    );
    const g = r.guardrails[1]!;
    expect(g.checks.find((c) => c.kind === 'max')!.status).toBe('pass');
    expect(g.checks.find((c) => c.kind === 'rollbackRelativeIncrease')!).toMatchObject({
      status: 'fail',
      estimate: 1.25,
    });
    expect(r.action).toBe('rollback');
  });

  it('memory beyond its relative limit against the champion → fail', () => {
    const r = evaluateGate(healthy(s(9.5, 5), { memory_mb: independent(s(200, 10), s(260, 10)) }), POLICY);
    const g = r.guardrails[2]!;
    expect(g.checks.find((c) => c.kind === 'maxRelativeIncrease')!.status).toBe('fail');
    expect(g.checks.find((c) => c.kind === 'rollbackRelativeIncrease')!.status).toBe('pass');
    expect(r.decision).toBe('fail');
  });

  it('Holm across rollback triggers: two breaches at p ≈ 0.03 each no longer trigger together', () => {
    // Place the challenger so that each absolute breach has an always-valid p of 0.03.
    const n = 20000;
    const rho = sequentialRho(0.05, 20000);
    const nr2 = n * rho * rho;
    const z = Math.sqrt(((2 * (nr2 + 1)) / nr2) * (Math.log(1 / 0.03) + 0.5 * Math.log1p(nr2)));
    const se = Math.sqrt(1 / n);
    const challenger = s(100 + z * se, 1, n);
    const evidence = independent(s(100, 1, n), challenger);
    const one: GatePolicy = { ...POLICY, guardrails: [{ metric: 'a', max: 100 }] };
    const two: GatePolicy = {
      ...POLICY,
      guardrails: [
        { metric: 'a', max: 100 },
        { metric: 'b', max: 100 },
      ],
    };
    const metrics = { abs_error: independent(s(10, 5), s(9.5, 5)), a: evidence, b: evidence };

    const single = evaluateGate({ metrics }, one);
    expect(single.guardrails[0]!.checks[0]!.pValue).toBeCloseTo(0.03, 10);
    expect(single.guardrails[0]!.status).toBe('fail');

    const family = evaluateGate({ metrics }, two);
    for (const g of family.guardrails) {
      expect(g.checks[0]!.pValue).toBeCloseTo(0.03, 10);
      expect(g.checks[0]!.adjustedPValue).toBeCloseTo(0.06, 10);
      expect(g.status).toBe('inconclusive');
    }
    expect(family.decision).toBe('inconclusive');
  });
});

describe('gate: direction, paired mode, strata, lists', () => {
  const accuracy: GatePolicy = {
    primaryMetric: {
      name: 'correct',
      direction: 'higher',
      minImprovement: 0.02,
      rollbackRelativeDegradation: 0.05,
    },
    analysis: { alpha: 0.05, minSamples: 1000, tuningN: 20000 },
  };

  it("direction 'higher' (accuracy as counts): more is better", () => {
    const win = evaluateGate(
      { metrics: { correct: independent({ successes: 17000, n: N }, { successes: 18000, n: N }) } },
      accuracy,
    );
    expect(win.decision).toBe('pass');
    expect(win.metrics[0]!.improvement.estimate).toBeCloseTo(1000 / 17000, 12);
    expect(win.metrics[0]!.reason).toMatch(/higher is better/);
    const loss = evaluateGate(
      { metrics: { correct: independent({ successes: 18000, n: N }, { successes: 16000, n: N }) } },
      accuracy,
    );
    expect(loss.decision).toBe('fail');
    expect(loss.action).toBe('rollback');
  });

  it('paired (shadow) evidence: the differences decide, with n = pairs', () => {
    const n = 5000;
    // Per-request differences are far less noisy than either arm: sd 1 instead of 5.
    const r = evaluateGate(
      { metrics: { abs_error: paired(s(-0.4, 1, n), s(10, 5, n), s(9.6, 5, n)) } },
      { ...POLICY, guardrails: [] },
    );
    const m = r.metrics[0]!;
    expect(m.analysis).toBe('paired');
    expect(m.champion.n).toBe(n);
    expect(m.se).toBeCloseTo(Math.sqrt(1 / n) / 10, 14);
    expect(r.decision).toBe('pass');
    expect(m.reason).toMatch(/n = 5000 paired requests/);
    // The same means as independent arms of that size cannot show it.
    const indep = evaluateGate(
      { metrics: { abs_error: independent(s(10, 5, n), s(9.6, 5, n)) } },
      { ...POLICY, guardrails: [] },
    );
    expect(indep.decision).toBe('inconclusive');
  });

  it('paired evidence accepts counts, so a rate limit in shadow mode uses the score-test variance too', () => {
    const policy: GatePolicy = { ...POLICY, guardrails: [{ metric: 'error', max: 0.001 }] };
    const metrics = {
      abs_error: paired(s(-0.4, 1, 5000), s(10, 5, 5000), s(9.6, 5, 5000)),
      error: paired(s(0, 0, 1500), { successes: 0, n: 1500 }, { successes: 0, n: 1500 }),
    };
    const r = evaluateGate({ metrics }, policy);
    expect(r.guardrails[0]!.analysis).toBe('paired');
    expect(r.guardrails[0]!.status).toBe('inconclusive');
    expect(r.decision).toBe('inconclusive');
  });

  it('stratified stages: no Simpson artefact from a split change during daily drift', () => {
    const stages = stratified([
      { champion: s(10, 4, 95000), challenger: s(10, 4, 5000) },
      { champion: s(12, 4, 50000), challenger: s(12, 4, 50000) },
    ]);
    const r = evaluateGate({ metrics: { abs_error: stages } }, { ...POLICY, guardrails: [] });
    expect(r.metrics[0]!.strata).toBe(2);
    expect(r.metrics[0]!.estimate).toBeCloseTo(0, 12);
    expect(r.decision).toBe('inconclusive');
    // Pooling the same samples would have "shown" a >10% degradation and rolled back.
    const pooled = evaluateGate(
      { metrics: { abs_error: independent(s(10.69, 4, 145000), s(11.82, 4, 55000)) } },
      { ...POLICY, guardrails: [] },
    );
    expect(pooled.decision).toBe('fail');
  });

  it('a list of primary metrics must all pass', () => {
    const policy: GatePolicy = {
      ...POLICY,
      guardrails: [],
      primaryMetric: [
        { name: 'abs_error', direction: 'lower', minImprovement: 0.02 },
        { name: 'ape', direction: 'lower', minImprovement: 0.02 },
      ],
    };
    const both = evaluateGate(
      {
        metrics: { abs_error: independent(s(10, 5), s(9.5, 5)), ape: independent(s(0.2, 0.1), s(0.19, 0.1)) },
      },
      policy,
    );
    expect(both.decision).toBe('pass');
    const one = evaluateGate(
      {
        metrics: { abs_error: independent(s(10, 5), s(9.5, 5)), ape: independent(s(0.2, 0.1), s(0.2, 0.1)) },
      },
      policy,
    );
    expect(one.decision).toBe('inconclusive');
    expect(one.metrics.map((m) => m.status)).toEqual(['pass', 'inconclusive']);
  });

  it('a champion mean of 0 makes the relative comparison inconclusive, not NaN', () => {
    const r = evaluateGate(
      { metrics: { abs_error: independent(s(0, 0), s(0, 0)) } },
      { ...POLICY, guardrails: [] },
    );
    expect(r.decision).toBe('inconclusive');
    expect(r.metrics[0]!.reason).toMatch(/champion mean is 0/);
    expectJsonSafe(r);
  });

  it('deterministic metrics (zero variance) decide without NaN', () => {
    const r = evaluateGate(healthy(s(9, 0), { memory_mb: independent(s(200, 0), s(200, 0)) }), POLICY);
    expect(r.metrics[0]!.status).toBe('pass');
    expect(r.guardrails[2]!.status).toBe('pass');
    expectJsonSafe(r);
  });
});

describe('gate: malformed input is a typed error', () => {
  it('names the offending policy field', () => {
    const bad = { ...POLICY, analysis: { ...POLICY.analysis, alpha: 5 } };
    expect(() => evaluateGate(healthy(s(9.5, 5)), bad)).toThrow(StatsInputError);
    try {
      evaluateGate(healthy(s(9.5, 5)), bad);
    } catch (e) {
      expect((e as StatsInputError).field).toBe('analysis.alpha');
    }
    expect(() => evaluateGate(healthy(s(9.5, 5)), { ...POLICY, guardrails: [{ metric: 'error' }] })).toThrow(
      /at least one limit/,
    );
  });

  it('names the offending evidence field', () => {
    const input = healthy(s(9.5, 5), {
      memory_mb: independent(s(200, 10), { n: N, mean: Number.NaN, variance: 1 }),
    });
    expect(() => evaluateGate(input, POLICY)).toThrow(
      /metrics\.memory_mb\.strata\[0\]\.challenger\.mean = NaN/,
    );
    const wrongKind = healthy(s(9.5, 5), { latency_ms: independent(s(300, 10), s(300, 10)) });
    expect(() => evaluateGate(wrongKind, POLICY)).toThrow(StatsInputError);
  });
});
