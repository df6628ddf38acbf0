import { describe, expect, it } from 'vitest';
import { parseTrainingConfig, validationRules } from '../../../src/retrain/training-config.js';
import { candidateRolloutPolicy } from '../../../src/retrain/candidate-rollout.js';
import { trainingDataDigest } from '../../../src/retrain/register-candidate.js';
import type { RetrainInput } from '../../../src/retrain/types.js';
import {
  judgeCandidate,
  legacyValidationMetrics,
  validationReportOf,
  type ValidationReport,
} from '../../../src/retrain/validation.js';

const floor = legacyValidationMetrics({ minImprovement: 0.05, accuracyFloor: 0.85 });
const digests = { candidate: 'c'.repeat(64), champion: 'd'.repeat(64) };
const report = (
  candidate: number,
  champion: number,
  extra: Partial<ValidationReport> = {},
): ValidationReport => ({
  candidate: { mae: candidate, n: 365 },
  champion: { mae: champion, n: 365 },
  holdoutSha256: 'h'.repeat(64),
  ...extra,
});

describe('validating a candidate against the champion', () => {
  it('takes the last printed line as the report, and only one with both models’ figures', () => {
    const last = { candidate: { mae: 1, n: 2 }, champion: { mae: 2, n: 2 } };
    expect(validationReportOf([{ step: 'loading' }, last])).toBe(last);
    expect(validationReportOf([last, { step: 'done' }])).toBeNull();
    expect(validationReportOf([])).toBeNull();
    expect(validationReportOf([{ candidate: [1], champion: { mae: 1 } }])).toBeNull();
    expect(validationReportOf([{ candidate: { mae: 1, n: 1 } }])).toBeNull();
    // A figure that is not a number fails its rule, naming it, rather than the report being dropped.
    const bad = judgeCandidate({ candidate: { mae: 'x' }, champion: { mae: 1 } }, floor, digests);
    expect(bad.passed).toBe(false);
    expect(bad.reason).toBe('below the floor: MAE: the candidate has no figure ("x")');
  });

  it('judges a list of metrics, each with its direction, improvement and floor, and names every miss', () => {
    // The seeds' classifier rule: accuracy and F1 at least 5 % better, never below 85 %.
    const classifier = [
      { name: 'accuracy', direction: 'higher', minImprovement: 0.05, floor: 0.85, required: true },
      { name: 'f1', direction: 'higher', minImprovement: 0.05, floor: 0.85, required: true },
    ] as const;
    const ok = judgeCandidate(
      { candidate: { accuracy: 0.95, f1: 0.9, n: 1000 }, champion: { accuracy: 0.88, f1: 0.8, n: 1000 } },
      classifier,
      digests,
    );
    expect(ok.passed).toBe(true);
    expect(ok.reason).toBe(
      'accuracy 95.0% vs champion 88.0% on the holdout: 8.0% better; F1 90.0% vs champion 80.0% on the holdout: 12.5% better',
    );
    expect(ok.checks.map((c) => [c.metric, c.passed])).toEqual([
      ['accuracy', true],
      ['f1', true],
    ]);
    const missed = judgeCandidate(
      { candidate: { accuracy: 0.84, f1: 0.2 }, champion: { accuracy: 0.83, f1: 0 } },
      classifier,
      digests,
    );
    expect(missed.passed).toBe(false);
    expect(missed.reason).toBe(
      'below the floor: accuracy 84.0% vs champion 83.0%: 1.2% better, needs ≥ 5.0%; accuracy 84.0% below the floor 85.0%; F1 20.0% below the floor 85.0%',
    );
    // The regression seed's rule: MAE and MAPE 5 % better, coverage not worse; a missing figure fails.
    const regression = [
      { name: 'mae', direction: 'lower', minImprovement: 0.05, required: true },
      { name: 'mape', direction: 'lower', minImprovement: 0.05, required: true },
      { name: 'coverage', direction: 'higher', minImprovement: 0, required: true },
    ] as const;
    const r = judgeCandidate(
      { candidate: { mae: 1.8, mape: 0.2, coverage: 0.93 }, champion: { mae: 2, mape: 0.2, coverage: 0.95 } },
      regression,
      digests,
    );
    expect(r.reason).toBe(
      'below the floor: MAPE 0.200 vs champion 0.200: 0.0% better, needs ≥ 5.0%; coverage 93.0% vs champion 95.0%: 2.1% worse, needs not worse',
    );
    const noCoverage = judgeCandidate(
      { candidate: { mae: 1, mape: 0.1 }, champion: { mae: 2, mape: 0.2 } },
      regression,
      digests,
    );
    expect(noCoverage.reason).toBe('below the floor: coverage: the candidate has no figure (null)');
  });

  it('passes a candidate that beats the champion by the floor', () => {
    const out = judgeCandidate(report(1.8, 2), floor, digests);
    expect(out).toMatchObject({ passed: true, improvement: expect.closeTo(0.1, 10) as number });
    expect(out.reason).toBe('MAE 1.800 vs champion 2.000 on the holdout: 10.0% better');
  });

  it('refuses one short of the improvement floor or below the accuracy floor, naming every reason', () => {
    expect(judgeCandidate(report(1.95, 2), floor, digests).reason).toBe(
      'below the floor: MAE 1.950 vs champion 2.000: 2.5% better, needs ≥ 5.0%',
    );
    const both = judgeCandidate(
      report(1.99, 2, { candidate: { mae: 1.99, n: 365, accuracy: 0.8 } }),
      floor,
      digests,
    );
    expect(both.passed).toBe(false);
    expect(both.reason).toBe(
      'below the floor: MAE 1.990 vs champion 2.000: 0.5% better, needs ≥ 5.0%; accuracy 80.0% below the floor 85.0%',
    );
    // A missing figure is never "good enough": NaN fails the floor.
    expect(judgeCandidate(report(Number.NaN, 2), floor, digests).passed).toBe(false);
  });

  it('reads a list of metrics from the training configuration, refusing a rule with nothing to check', () => {
    const base = { process: { command: ['train'] }, validate: { command: ['validate'] } };
    expect(validationRules(parseTrainingConfig(base).validate)).toEqual(
      legacyValidationMetrics({ minImprovement: 0.05, accuracyFloor: 0.85 }),
    );
    const listed = parseTrainingConfig({
      ...base,
      validate: { command: ['v'], metrics: [{ name: 'f1', direction: 'higher', floor: 0.85 }] },
    });
    expect(validationRules(listed.validate)).toEqual([
      { name: 'f1', direction: 'higher', floor: 0.85, required: true },
    ]);
    expect(() =>
      parseTrainingConfig({
        ...base,
        validate: { command: ['v'], metrics: [{ name: 'f1', direction: 'higher' }] },
      }),
    ).toThrow(
      /^training\.validate\.metrics\.0=.*give minImprovement \(0: not worse than the champion\), a floor, or both/,
    );
    expect(() =>
      parseTrainingConfig({
        ...base,
        validate: { command: ['v'], metrics: [{ name: 'f 1', direction: 'up', floor: 1 }] },
      }),
    ).toThrow(/^training\.validate\.metrics\.0\.name="f 1"/);
  });

  it('hashes exactly what was compared: same inputs, same hash; any change, another', () => {
    const a = judgeCandidate(report(1.8, 2), floor, digests).validationHash;
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(judgeCandidate(report(1.8, 2), floor, digests).validationHash).toBe(a);
    expect(
      judgeCandidate(
        report(1.8, 2),
        legacyValidationMetrics({ minImprovement: 0.5, accuracyFloor: 0.85 }),
        digests,
      ).validationHash,
    ).toBe(a);
    expect(judgeCandidate(report(1.8, 2, { holdoutSha256: 'x' }), floor, digests).validationHash).not.toBe(a);
    expect(judgeCandidate(report(1.8, 2, { forecastsSha256: 'f' }), floor, digests).validationHash).not.toBe(
      a,
    );
    expect(judgeCandidate(report(1.8, 2), floor, { ...digests, champion: 'e' }).validationHash).not.toBe(a);
  });
});

describe("a retrained candidate's lineage and rollout", () => {
  it('records the last training-data digest the job reported', () => {
    expect(trainingDataDigest([])).toBeNull();
    expect(
      trainingDataDigest([{ dataSha256: 'a' }, { step: 'fit' }, { event: 'done', trainingDataSha256: 'b' }]),
    ).toBe('b');
  });

  it('auto-approves scheduled and manual retrains only when configured; drift and degradation always wait', () => {
    const config = (autoApprove: boolean) =>
      parseTrainingConfig({
        process: { command: ['train'] },
        validate: { command: ['validate'] },
        rollout: { autoApprove, policy: { approval: { timeout: '1h' } } },
      });
    const input = (trigger: RetrainInput['trigger']): RetrainInput => ({
      jobId: 'j',
      tenantId: 'default',
      model: 'm',
      trigger,
      reason: 'r',
      requestedBy: 'p',
    });
    expect(candidateRolloutPolicy(config(true), input('schedule'))).toEqual({
      approval: { timeout: '1h', required: false },
    });
    expect(candidateRolloutPolicy(config(true), input('manual')).approval).toEqual({
      timeout: '1h',
      required: false,
    });
    expect(candidateRolloutPolicy(config(true), input('drift')).approval?.required).toBe(true);
    expect(candidateRolloutPolicy(config(true), input('degradation')).approval?.required).toBe(true);
    expect(candidateRolloutPolicy(config(false), input('manual')).approval?.required).toBe(true);
  });
});
