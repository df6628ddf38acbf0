import { describe, expect, it } from 'vitest';
import {
  checkReason,
  decisionReason,
  fmtNum,
  fmtP,
  guardrailWaitingReason,
  pct,
  primaryReason,
  signedPct,
  srmReason,
} from '../../../../src/stats/gate/format.js';
import type { PrimaryComparison, SampleSize, TestedFigures } from '../../../../src/stats/gate/findings.js';

const arms: SampleSize = { kind: 'arms', challenger: 1200, champion: 1300 };
const comparison: PrimaryComparison = {
  direction: 'lower',
  alpha: 0.05,
  improvement: 0.031,
  interval: [0.0212, 0.0408],
  pValue: 0.00004,
  sample: arms,
  minImprovement: 0.02,
};

describe('gate format: numbers', () => {
  it('percentages drop trailing zeros; signed ones mark increases', () => {
    expect(pct(0.05)).toBe('5%');
    expect(pct(0.123456)).toBe('12.35%');
    expect(pct(0.00015, 3)).toBe('0.015%');
    expect(pct(0.95, 0)).toBe('95%');
    expect(signedPct(0.02)).toBe('+2%');
    expect(signedPct(-0.02)).toBe('-2%');
    expect(signedPct(0)).toBe('0%');
  });

  it('values keep four significant digits, or go scientific far from 1', () => {
    expect(fmtNum(0)).toBe('0');
    expect(fmtNum(310)).toBe('310');
    expect(fmtNum(30.3157)).toBe('30.32');
    expect(fmtNum(2_500_000)).toBe('2.500e+6');
    expect(fmtNum(0.0004)).toBe('4.000e-4');
  });

  it('p-values keep two significant digits, or go scientific below 1e-4', () => {
    expect(fmtP(0)).toBe('0');
    expect(fmtP(1)).toBe('1');
    expect(fmtP(0.001934)).toBe('0.0019');
    expect(fmtP(0.00004)).toBe('4.0e-5');
  });
});

describe('gate format: sentences from findings', () => {
  it('primary metrics, one sentence per code', () => {
    const summary =
      'abs_error (lower is better): challenger 3.1% better than the champion; 95% always-valid interval of the ' +
      'improvement [2.12%, 4.08%], p = 4.0e-5; n = 1200 challenger / 1300 champion';
    expect(primaryReason('abs_error', { code: 'pass', ...comparison })).toBe(
      `${summary}. Pass: the interval clears the required 2% improvement.`,
    );
    expect(primaryReason('abs_error', { code: 'short', ...comparison })).toBe(
      `${summary}. Inconclusive: the interval does not yet clear the required 2%.`,
    );
    expect(
      primaryReason('abs_error', { code: 'degraded', limit: 0.05, rollbackPValue: 0.001, ...comparison }),
    ).toBe(`${summary}. Fail: worse than the 5% degradation that triggers a rollback (p = 0.001).`);
    expect(primaryReason('ape', { code: 'nothing-recorded' })).toBe(
      'ape: waiting for data: nothing recorded yet.',
    );
    expect(
      primaryReason('ape', {
        code: 'too-few-samples',
        sample: { kind: 'paired', pairs: 12 },
        minSamples: 100,
      }),
    ).toBe('ape: waiting for data: n = 12 paired requests; 100 per arm needed.');
    expect(primaryReason('ape', { code: 'relative-undefined', cause: 'too-few-pairs', sample: arms })).toBe(
      'ape: inconclusive: fewer than 2 paired observations (n = 1200 challenger / 1300 champion).',
    );
  });

  it('guardrail checks: tested, undefined and descriptive', () => {
    const level: TestedFigures = {
      code: 'level',
      kind: 'rollbackAbove',
      proportion: false,
      estimate: 612.5,
      limit: 600,
      interval: [590.25, 634.75],
      alpha: 0.1,
      sample: arms,
    };
    expect(
      checkReason({ metric: 'memory_mb' }, { ...level, outcome: { code: 'breach', adjustedPValue: 0.012 } }),
    ).toBe(
      'memory_mb: challenger 612.5 vs rollback level 600; 90% always-valid interval [590.3, 634.8]; ' +
        'n = 1200 challenger / 1300 champion. Fail: beyond the limit (Holm-adjusted p = 0.012).',
    );
    expect(
      checkReason({ metric: 'memory_mb' }, { ...level, outcome: { code: 'holds', pValue: 0.2 } }),
    ).toMatch(/\. Holds: not shown beyond the rollback level \(p = 0\.2\)\.$/);
    expect(checkReason({ metric: 'memory_mb' }, { ...level, outcome: { code: 'open' } })).toMatch(
      /\. Inconclusive: the interval still reaches the limit\.$/,
    );
    expect(
      checkReason(
        { metric: 'memory_mb' },
        {
          code: 'increase-undefined',
          kind: 'rollbackRelativeIncrease',
          limit: 0.5,
          cause: 'no-usable-period',
        },
      ),
    ).toBe(
      'memory_mb: rollback increase 50% cannot be checked: no period has 2 or more observations in both arms.',
    );
    expect(
      checkReason(
        { metric: 'latency_ms', quantile: 0.5 },
        {
          code: 'quantile-level',
          kind: 'rollbackAbove',
          challenger: 810,
          limit: 800,
          sample: arms,
          breach: true,
        },
      ),
    ).toBe(
      'latency_ms p50: challenger 810 vs rollback level 800 (descriptive comparison; ' +
        'n = 1200 challenger / 1300 champion). Fail: above the limit.',
    );
    expect(
      guardrailWaitingReason({ metric: 'latency_ms', quantile: 0.999 }, { code: 'nothing-recorded' }),
    ).toBe('latency_ms p99.9: waiting for data: nothing recorded yet.');
  });

  it('sample ratio and the decision headline', () => {
    const periods = [{ observed: [90, 10], expectedWeights: [0.5, 0.5] }];
    const mismatch = srmReason({ code: 'mismatch', periods, chi2: 64, df: 1, pValue: 1.2e-15 });
    expect(mismatch).toBe(
      'sample-ratio mismatch: observed [90, 10] for weights [0.5, 0.5], χ² = 64 on 1 df, p = 1.2e-15 < 0.001',
    );
    expect(decisionReason('invalid', mismatch)).toBe(
      `Data invalid: ${mismatch}. The rollout is paused until assignment or logging is fixed.`,
    );
    expect(decisionReason('fail', undefined)).toBe('Fail: roll back.');
    expect(srmReason({ code: 'untested', cause: 'empty-period' })).toBe(
      'Sample ratio not tested yet: a period has no units yet.',
    );
  });
});
