import { describe, expect, it } from 'vitest';
import { evaluateSrm } from '../../../../src/stats/gate/srm-verdict.js';

describe('gate sample-ratio verdict', () => {
  it('a mismatch is tested and flagged; its reason quotes the split', () => {
    const v = evaluateSrm({ observed: [9380, 620], expectedWeights: [0.95, 0.05] });
    expect(v).toMatchObject({ tested: true, df: 1, mismatch: true, observed: [9380, 620] });
    expect(v.reason).toMatch(/^sample-ratio mismatch: observed \[9380, 620\] for weights \[0\.95, 0\.05\]/);
  });

  it('is not tested on an empty period or with fewer than 5 expected units', () => {
    expect(evaluateSrm([{ observed: [0, 0], expectedWeights: [0.5, 0.5] }])).toEqual({
      tested: false,
      chi2: 0,
      df: 0,
      pValue: 1,
      observed: [],
      expected: [],
      mismatch: false,
      reason: 'Sample ratio not tested yet: a period has no units yet.',
    });
    const small = evaluateSrm({ observed: [30, 1], expectedWeights: [0.95, 0.05] });
    expect(small).toMatchObject({ tested: false, observed: [30, 1], mismatch: false });
  });
});
