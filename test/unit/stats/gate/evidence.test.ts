import { describe, expect, it } from 'vitest';
import { independent, paired, prepareEvidence, stratified } from '../../../../src/stats/gate/evidence.js';
import { StatsInputError } from '../../../../src/stats/errors.js';

const s = (mean: number, sd: number, n: number) => ({ n, mean, variance: sd * sd });

describe('gate evidence', () => {
  it('counts become 0/1 summaries with the sample variance, and mark the metric a proportion', () => {
    const p = prepareEvidence('m', independent({ successes: 1, n: 4 }, { successes: 2, n: 4 }));
    // A Bernoulli(p) value's skewness is (1 − 2p)/√(p(1 − p)).
    expect(p.champion).toEqual({
      n: 4,
      mean: 0.25,
      variance: (0.25 * 0.75 * 4) / 3,
      skewness: 0.5 / Math.sqrt(0.25 * 0.75),
    });
    expect(p.proportion).toBe(true);
    expect(p.sample).toEqual({ kind: 'arms', challenger: 4, champion: 4 });
    expect(prepareEvidence('m', independent({ successes: 0, n: 0 }, s(1, 1, 4))).proportion).toBe(false);
  });

  it('paired: n is the number of pairs, the relative change is the mean difference over the champion mean', () => {
    const p = prepareEvidence('m', paired(s(-0.5, 1, 400), s(10, 5, 400), s(9.5, 5, 400)));
    expect(p).toMatchObject({ analysis: 'paired', nChampion: 400, nChallenger: 400 });
    expect(p.sample).toEqual({ kind: 'paired', pairs: 400 });
    expect(p.relative).toEqual({ estimate: -0.05, se: Math.sqrt(1 / 400) / 10, nTotal: 400, strata: 1 });
    expect(prepareEvidence('m', paired(s(0, 1, 1), s(10, 5, 1), s(9, 5, 1))).relative).toEqual({
      undefined: 'too-few-pairs',
    });
  });

  it('strata: periods without variance are skipped; why the relative change is undefined is a code', () => {
    const zero = stratified([{ champion: s(0, 0, 10), challenger: s(0, 0, 10) }]);
    expect(prepareEvidence('m', zero).relative).toEqual({ undefined: 'zero-champion-mean' });
    const barely = stratified([
      { champion: s(10, 5, 2000), challenger: s(9, 5, 1) },
      { champion: s(10, 5, 1), challenger: s(9, 5, 2000) },
    ]);
    const p = prepareEvidence('m', barely);
    expect(p.relative).toEqual({ undefined: 'no-usable-period' });
    expect(p.nChampion).toBe(2001);
  });

  it('names the offending field', () => {
    expect(() =>
      prepareEvidence('metrics.e', independent({ successes: 5, n: 4 }, { successes: 0, n: 4 })),
    ).toThrow('metrics.e.strata[0].champion.successes = 5: cannot exceed n (4)');
    expect(() => prepareEvidence('metrics.e', stratified([]))).toThrow(StatsInputError);
  });
});
