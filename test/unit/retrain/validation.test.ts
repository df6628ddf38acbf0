import { describe, expect, it } from 'vitest';
import { parseTrainingConfig } from '../../../src/retrain/training-config.js';
import { candidateRolloutPolicy } from '../../../src/retrain/candidate-rollout.js';
import { trainingDataDigest } from '../../../src/retrain/register-candidate.js';
import type { RetrainInput } from '../../../src/retrain/types.js';
import {
  judgeCandidate,
  validationReportOf,
  type ValidationReport,
} from '../../../src/retrain/validation.js';

const floor = { minImprovement: 0.05, accuracyFloor: 0.85 };
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
  it('takes the last printed line as the report, and only one with both models and a numeric MAE', () => {
    const last = { candidate: { mae: 1, n: 2 }, champion: { mae: 2, n: 2 } };
    expect(validationReportOf([{ step: 'loading' }, last])).toBe(last);
    expect(validationReportOf([last, { step: 'done' }])).toBeNull();
    expect(validationReportOf([])).toBeNull();
    expect(validationReportOf([{ candidate: { mae: 'x' }, champion: { mae: 1 } }])).toBeNull();
    expect(validationReportOf([{ candidate: { mae: 1, n: 1 } }])).toBeNull();
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

  it('hashes exactly what was compared: same inputs, same hash; any change, another', () => {
    const a = judgeCandidate(report(1.8, 2), floor, digests).validationHash;
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(judgeCandidate(report(1.8, 2), floor, digests).validationHash).toBe(a);
    expect(judgeCandidate(report(1.8, 2), { ...floor, minImprovement: 0.5 }, digests).validationHash).toBe(a);
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
