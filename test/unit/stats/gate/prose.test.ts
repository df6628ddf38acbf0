import { describe, expect, it } from 'vitest';
import {
  evaluateGate,
  independent,
  paired,
  quantiles,
  stratified,
  type GateInput,
  type GatePolicy,
  type Summary,
} from '../../../../src/stats/index.js';

/*
 * Pins the exact English of the gate, sentence by sentence: these strings are stored in analyses.result,
 * shown by the CLI and sent in alerts, so a change of wording or number formatting must be deliberate.
 */

const N = 20000;
const s = (mean: number, sd: number, n = N): Summary => ({ n, mean, variance: sd * sd });
const analysis = { alpha: 0.05, minSamples: 1000, tuningN: 20000 };
const absError: GatePolicy['primaryMetric'] = {
  name: 'abs_error',
  direction: 'lower',
  minImprovement: 0.02,
  rollbackRelativeDegradation: 0.05,
};
const only = (guardrails: GatePolicy['guardrails'] = []): GatePolicy => ({
  primaryMetric: absError,
  guardrails,
  analysis,
});
const primary = (challenger: Summary): GateInput => ({
  metrics: { abs_error: independent(s(10, 5), challenger) },
});

function reasons(input: GateInput, policy: GatePolicy): string[] {
  return evaluateGate(input, policy).reasons;
}

describe('gate prose: primary metrics', () => {
  it('pass', () => {
    expect(reasons(primary(s(9.5, 5)), only())).toEqual(PASS);
  });
  it('fail on the degradation test', () => {
    expect(reasons(primary(s(11, 5)), only())).toEqual(FAIL);
  });
  it('inconclusive and futile', () => {
    expect(reasons(primary(s(10.3, 5)), only())).toEqual(FUTILE);
  });
  it('inconclusive, not yet clear', () => {
    expect(reasons(primary(s(9.8, 5)), only())).toEqual(OPEN);
  });
  it('no change, with the higher-is-better wording at another alpha', () => {
    const policy: GatePolicy = {
      primaryMetric: [{ name: 'correct', direction: 'higher', minImprovement: 0.02 }],
      analysis: { ...analysis, alpha: 0.1 },
    };
    const metrics = { correct: independent({ successes: 17000, n: N }, { successes: 17000, n: N }) };
    expect(reasons({ metrics }, policy)).toEqual(NO_CHANGE);
  });
  it('waiting, then a relative change that is undefined', () => {
    expect(reasons({ metrics: {} }, only())).toEqual(NOTHING_YET);
    expect(reasons(primary(s(9, 5, 400)), only())).toEqual(TOO_FEW);
    const unusable = stratified([
      { champion: s(10, 5, 2000), challenger: s(9, 5, 1) },
      { champion: s(10, 5, 1), challenger: s(9, 5, 2000) },
    ]);
    expect(reasons({ metrics: { abs_error: unusable } }, only())).toEqual(NO_USABLE_PERIOD);
    expect(reasons({ metrics: { abs_error: independent(s(0, 0), s(0, 0)) } }, only())).toEqual(ZERO_BASE);
  });
});

describe('gate prose: guardrails', () => {
  it('rates (score test), relative limits and the Holm-adjusted failure', () => {
    const policy = only([
      { metric: 'error', max: 0.001, rollbackAbove: 0.01 },
      { metric: 'memory_mb', maxRelativeIncrease: 0.2, rollbackRelativeIncrease: 0.5 },
    ]);
    const healthy = {
      abs_error: independent(s(10, 5), s(9.5, 5)),
      error: independent({ successes: 4, n: N }, { successes: 3, n: N }),
      memory_mb: independent(s(200, 10), s(204, 10)),
    };
    expect(reasons({ metrics: healthy }, policy)).toEqual(GUARDRAILS_PASS);
    const failing = { ...healthy, error: independent({ successes: 4, n: N }, { successes: 80, n: N }) };
    const r = evaluateGate({ metrics: failing }, policy);
    expect(r.guardrails[0]!.checks.map((c) => c.reason)).toEqual(ERROR_CHECKS);
    expect(r.reasons[1]).toBe(ERROR_CHECKS[0]);
  });

  it('quantiles, compared descriptively', () => {
    const policy = only([{ metric: 'latency_ms', quantile: 0.95, max: 500, rollbackRelativeIncrease: 1.0 }]);
    const latency = (champion: number, challenger: number, n = N): GateInput => ({
      metrics: {
        abs_error: independent(s(10, 5), s(9.5, 5)),
        latency_ms: quantiles(0.95, { n, value: champion }, { n, value: challenger }),
      },
    });
    expect(reasons(latency(200, 520), policy)).toEqual(LATENCY_FAIL);
    expect(reasons(latency(0, 450), policy)).toEqual(LATENCY_ZERO_CHAMPION);
    expect(reasons(latency(200, 900, 10), policy)).toEqual(LATENCY_WAITING);
  });

  it('paired evidence: n in pairs, and relative limits on a zero champion', () => {
    const policy = only([
      { metric: 'error', max: 0.001 },
      { metric: 'memory_mb', maxRelativeIncrease: 0.2, rollbackRelativeIncrease: 0.5 },
    ]);
    const metrics = {
      abs_error: paired(s(-0.4, 1, 5000), s(10, 5, 5000), s(9.6, 5, 5000)),
      error: paired(s(0, 0, 1500), { successes: 0, n: 1500 }, { successes: 0, n: 1500 }),
      memory_mb: paired(s(1, 2, 1500), s(0, 1, 1500), s(1, 1, 1500)),
    };
    expect(reasons({ metrics }, policy)).toEqual(PAIRED);
  });
});

describe('gate prose: sample ratio', () => {
  const win = primary(s(9.5, 5));
  it('mismatch, consistent over stages, and not tested', () => {
    expect(
      reasons({ ...win, srm: { observed: [9380, 620], expectedWeights: [0.95, 0.05] } }, only()),
    ).toEqual(SRM_MISMATCH);
    const stages = [
      { observed: [9470, 530], expectedWeights: [0.95, 0.05] },
      { observed: [5021, 4979], expectedWeights: [0.5, 0.5] },
    ];
    expect(reasons({ ...win, srm: stages }, only()).at(-1)).toBe(
      'Sample ratio consistent with the intended split (χ² = 2.071 on 2 df, p = 0.36).',
    );
    expect(
      reasons({ ...win, srm: { observed: [30, 1], expectedWeights: [0.95, 0.05] } }, only()).at(-1),
    ).toBe('Sample ratio not tested yet: fewer than 5 expected units in some arm.');
    expect(reasons({ ...win, srm: { observed: [0, 0], expectedWeights: [0.5, 0.5] } }, only()).at(-1)).toBe(
      'Sample ratio not tested yet: a period has no units yet.',
    );
  });
});

/* The expected sentences, recorded from the gate before it was split into modules (issue #17). */
const PASS = [
  'Pass: every primary metric reached its required improvement and every guardrail holds.',
  'abs_error (lower is better): challenger 5% better than the champion; 95% always-valid interval of the improvement [3.51%, 6.49%], p = 1.4e-21; n = 20000 challenger / 20000 champion. Pass: the interval clears the required 2% improvement.',
];
const FAIL = [
  'Fail: roll back.',
  'abs_error (lower is better): challenger 10% worse than the champion; 95% always-valid interval of the improvement [-11.61%, -8.39%], p = 4.6e-74; n = 20000 challenger / 20000 champion. Fail: worse than the 5% degradation that triggers a rollback (p = 1.3e-18).',
];
const FUTILE = [
  'Inconclusive: keep collecting data.',
  'abs_error (lower is better): challenger 3% worse than the champion; 95% always-valid interval of the improvement [-4.55%, -1.45%], p = 3.0e-7; n = 20000 challenger / 20000 champion. Inconclusive: the interval lies below the required 2%, so more data will not make it pass.',
];
const OPEN = [
  'Inconclusive: keep collecting data.',
  'abs_error (lower is better): challenger 2% better than the champion; 95% always-valid interval of the improvement [0.48%, 3.52%], p = 0.0019; n = 20000 challenger / 20000 champion. Inconclusive: the interval does not yet clear the required 2%.',
];
const NO_CHANGE = [
  'Inconclusive: keep collecting data.',
  'correct (higher is better): challenger no different from the champion; 90% always-valid interval of the improvement [-1.17%, 1.17%], p = 1; n = 20000 challenger / 20000 champion. Inconclusive: the interval lies below the required 2%, so more data will not make it pass.',
];
const NOTHING_YET = [
  'Waiting for data: too few observations to judge (never counted as a failure).',
  'abs_error: waiting for data: nothing recorded yet.',
];
const TOO_FEW = [
  'Waiting for data: too few observations to judge (never counted as a failure).',
  'abs_error: waiting for data: n = 400 challenger / 20000 champion; 1000 per arm needed.',
];
const NO_USABLE_PERIOD = [
  'Inconclusive: keep collecting data.',
  'abs_error: inconclusive: no period has 2 or more observations in both arms (n = 2001 challenger / 2001 champion).',
];
const ZERO_BASE = [
  'Inconclusive: keep collecting data.',
  'abs_error: inconclusive: the champion mean is 0, so a relative change is undefined (n = 20000 challenger / 20000 champion).',
];
const GUARDRAILS_PASS = [
  'Pass: every primary metric reached its required improvement and every guardrail holds.',
  'abs_error (lower is better): challenger 5% better than the champion; 95% always-valid interval of the improvement [3.51%, 6.49%], p = 1.4e-21; n = 20000 challenger / 20000 champion. Pass: the interval clears the required 2% improvement.',
  'error: challenger 0.015% vs limit 0.1%; 95% always-valid interval [0%, 0.083%]; n = 20000 challenger / 20000 champion. Pass: within the limit. error: challenger 0.015% vs rollback level 1%; 95% always-valid interval [0%, 0.229%]; n = 20000 challenger / 20000 champion. Holds: not shown beyond the rollback level (p = 1).',
  'memory_mb: challenger +2% vs champion (allowed increase 20%); 95% always-valid interval [+1.85%, +2.15%]; n = 20000 challenger / 20000 champion. Pass: within the limit. memory_mb: challenger +2% vs champion (rollback increase 50%); 95% always-valid interval [+1.85%, +2.15%]; n = 20000 challenger / 20000 champion. Holds: not shown beyond the rollback level (p = 1).',
];
const ERROR_CHECKS = [
  'error: challenger 0.4% vs limit 0.1%; 95% always-valid interval [0.332%, 0.468%]; n = 20000 challenger / 20000 champion. Fail: beyond the limit (Holm-adjusted p = 2.1e-34).',
  'error: challenger 0.4% vs rollback level 1%; 95% always-valid interval [0.186%, 0.614%]; n = 20000 challenger / 20000 champion. Holds: not shown beyond the rollback level (p = 1).',
];
const LATENCY_FAIL = [
  'Fail: roll back.',
  'latency_ms p95: challenger 520 vs limit 500 (descriptive comparison; n = 20000 challenger / 20000 champion). Fail: above the limit. latency_ms p95: challenger 520 vs champion 200 (+160%, limit 100%) (descriptive comparison; n = 20000 challenger / 20000 champion). Fail: above the limit.',
  'abs_error (lower is better): challenger 5% better than the champion; 95% always-valid interval of the improvement [3.51%, 6.49%], p = 1.4e-21; n = 20000 challenger / 20000 champion. Pass: the interval clears the required 2% improvement.',
];
const LATENCY_ZERO_CHAMPION = [
  'Pass: every primary metric reached its required improvement and every guardrail holds.',
  'abs_error (lower is better): challenger 5% better than the champion; 95% always-valid interval of the improvement [3.51%, 6.49%], p = 1.4e-21; n = 20000 challenger / 20000 champion. Pass: the interval clears the required 2% improvement.',
  "latency_ms p95: challenger 450 vs limit 500 (descriptive comparison; n = 20000 challenger / 20000 champion). Pass: within the limit. latency_ms p95: relative limit cannot be checked: the champion's value is 0.",
];
const LATENCY_WAITING = [
  'Waiting for data: too few observations to judge (never counted as a failure).',
  'latency_ms p95: waiting for data: n = 10 challenger / 10 champion; 1000 per arm needed.',
  'abs_error (lower is better): challenger 5% better than the champion; 95% always-valid interval of the improvement [3.51%, 6.49%], p = 1.4e-21; n = 20000 challenger / 20000 champion. Pass: the interval clears the required 2% improvement.',
];
const PAIRED = [
  'Inconclusive: keep collecting data.',
  'error: challenger 0% vs limit 0.1%; 95% always-valid interval [0%, 0.34%]; n = 1500 paired requests. Inconclusive: the interval still reaches the limit.',
  'memory_mb: allowed increase 20% cannot be checked: the champion mean is 0, so a relative change is undefined.',
  'abs_error (lower is better): challenger 4% better than the champion; 95% always-valid interval of the improvement [3.54%, 4.46%], p = 5.4e-116; n = 5000 paired requests. Pass: the interval clears the required 2% improvement.',
];
const SRM_MISMATCH = [
  'Data invalid: sample-ratio mismatch: observed [9380, 620] for weights [0.95, 0.05], χ² = 30.32 on 1 df, p = 3.7e-8 < 0.001. The rollout is paused until assignment or logging is fixed.',
  'abs_error (lower is better): challenger 5% better than the champion; 95% always-valid interval of the improvement [3.51%, 6.49%], p = 1.4e-21; n = 20000 challenger / 20000 champion. Pass: the interval clears the required 2% improvement.',
];
