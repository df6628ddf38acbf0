import { describe, expect, it } from 'vitest';
import {
  InsufficientDataError,
  StatsInputError,
  benjaminiHochberg,
  combineStrata,
  confidenceSequence,
  holm,
  ksTwoSample,
  mannWhitneyU,
  pairedDifferenceTest,
  pairedTTest,
  psi,
  relativeLift,
  sampleSizePerGroup,
  srmTest,
  twoProportionZTest,
  welchTTest,
} from '../../../src/stats/index.js';

/** Runs fn, expects a StatsInputError (or subclass) naming `field`, and returns it. */
function expectInputError(
  fn: () => unknown,
  field: string,
  type: abstract new (...args: never[]) => StatsInputError = StatsInputError,
) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected ${type.name} on ${field}`).toBeInstanceOf(type);
  expect((caught as StatsInputError).field).toBe(field);
  return caught as StatsInputError;
}

function noNaN(value: unknown, path = 'result'): void {
  if (typeof value === 'number') expect(Number.isNaN(value), `${path} is NaN`).toBe(false);
  else if (Array.isArray(value)) value.forEach((v, i) => noNaN(v, `${path}[${i}]`));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) noNaN(v, `${path}.${k}`);
}

describe('Welch t-test: degenerate input', () => {
  it('n < 2 in an arm is an InsufficientDataError naming the arm', () => {
    const e = expectInputError(() => welchTTest([1], [1, 2, 3]), 'a.n', InsufficientDataError);
    expect(e.value).toBe(1);
    expectInputError(() => welchTTest([1, 2], []), 'b.n', InsufficientDataError);
    expectInputError(() => welchTTest({ n: 1, mean: 3, variance: 0 }, { n: 5, mean: 1, variance: 1 }), 'a.n');
  });

  it('non-finite values and malformed summaries name the field and value', () => {
    const e = expectInputError(() => welchTTest([1, Number.NaN, 3], [1, 2]), 'a[1]');
    expect(Number.isNaN(e.value)).toBe(true);
    expect(e.message).toContain('a[1] = NaN');
    expect(expectInputError(() => welchTTest([1, 2], [1, Infinity]), 'b[1]').value).toBe(Infinity);
    expectInputError(() => welchTTest({ n: 5, mean: 1, variance: -1 }, [1, 2]), 'a.variance');
    expectInputError(() => welchTTest({ n: 5, mean: Number.NaN, variance: 1 }, [1, 2]), 'a.mean');
    expectInputError(() => welchTTest([1, 2], [1, 2], { alternative: 'sideways' as never }), 'alternative');
  });

  it('zero variance in both arms, equal means: t = 0, p = 1', () => {
    const r = welchTTest([5, 5, 5], [5, 5]);
    expect(r).toMatchObject({ t: 0, pValue: 1, diff: 0, se: 0, ci: [0, 0], df: 3 });
  });

  it('zero variance in both arms, different means: t = ±∞, p = 0 (a certain difference)', () => {
    const r = welchTTest([6, 6, 6], [5, 5]);
    expect(r.t).toBe(Infinity);
    expect(r.pValue).toBe(0);
    expect(r.ci).toEqual([1, 1]);
    expect(welchTTest([4, 4], [5, 5]).t).toBe(-Infinity);
    expect(welchTTest([6, 6], [5, 5], { alternative: 'greater' }).pValue).toBe(0);
    expect(welchTTest([6, 6], [5, 5], { alternative: 'less' }).pValue).toBe(1);
  });

  it('zero variance in one arm only is an ordinary test with df from the other arm', () => {
    const r = welchTTest([5, 5, 5, 5], [4, 5, 6, 5, 4.5]);
    expect(r.df).toBeCloseTo(4, 12);
    noNaN(r);
    expect(r.pValue).toBeGreaterThan(0);
    expect(r.pValue).toBeLessThanOrEqual(1);
  });
});

describe('paired t-test: degenerate input', () => {
  it('requires equal lengths and at least 2 pairs', () => {
    expectInputError(() => pairedTTest([1, 2, 3], [1, 2]), 'b.length');
    expectInputError(() => pairedTTest([1], [2]), 'a.length', InsufficientDataError);
    expectInputError(() => pairedTTest([], []), 'a.length', InsufficientDataError);
    expectInputError(
      () => pairedDifferenceTest({ n: 1, mean: 0, variance: 0 }),
      'differences.n',
      InsufficientDataError,
    );
    expectInputError(() => pairedTTest([1, 2], [1, Number.NEGATIVE_INFINITY]), 'b[1]');
  });

  it('identical differences: all zero → t = 0, p = 1; all equal non-zero → t = ±∞, p = 0', () => {
    expect(pairedTTest([1, 2, 3], [1, 2, 3])).toMatchObject({ t: 0, pValue: 1, df: 2 });
    const r = pairedTTest([2, 3, 4], [1, 2, 3]);
    expect(r.t).toBe(Infinity);
    expect(r.pValue).toBe(0);
    expect(pairedDifferenceTest({ n: 10, mean: -0.5, variance: 0 }).t).toBe(-Infinity);
  });
});

describe('two-proportion z-test: degenerate input', () => {
  it('no successes or no failures anywhere: z = 0, p = 1', () => {
    expect(twoProportionZTest(0, 100, 0, 50)).toMatchObject({ z: 0, pValue: 1 });
    expect(twoProportionZTest(100, 100, 50, 50)).toMatchObject({ z: 0, pValue: 1 });
  });

  it('rejects empty arms, impossible and non-integer counts', () => {
    expectInputError(() => twoProportionZTest(0, 0, 1, 10), 'n1', InsufficientDataError);
    expectInputError(() => twoProportionZTest(11, 10, 1, 10), 'x1');
    expectInputError(() => twoProportionZTest(1, 10, 1.5, 10), 'x2');
    expectInputError(() => twoProportionZTest(1, 10, -1, 10), 'x2');
  });
});

describe('SRM: degenerate input', () => {
  it('rejects malformed counts and weights, and an empty experiment', () => {
    expectInputError(() => srmTest([10], [1]), 'observed');
    expectInputError(() => srmTest([10, 10], [1]), 'expectedWeights');
    expectInputError(() => srmTest([10, -1], [1, 1]), 'observed[1]');
    expectInputError(() => srmTest([10, 1.5], [1, 1]), 'observed[1]');
    expectInputError(() => srmTest([10, 10], [1, 0]), 'expectedWeights[1]');
    expectInputError(() => srmTest([0, 0], [1, 1]), 'observed (total)', InsufficientDataError);
  });

  it('a perfect split has chi2 = 0 and p = 1; unnormalised weights are fine', () => {
    expect(srmTest([950, 50], [95, 5])).toMatchObject({ chi2: 0, df: 1, pValue: 1 });
  });
});

describe('Mann-Whitney U: degenerate input', () => {
  it('all values tied: u = n₁n₂/2 and p = 1 (as SciPy)', () => {
    const r = mannWhitneyU([3, 3, 3], [3, 3]);
    expect(r.u).toBe(3);
    expect(r.pValue).toBe(1);
    noNaN(r);
  });

  it('single observations are allowed; empty arrays and NaN are not', () => {
    const r = mannWhitneyU([1], [2]);
    expect(r.u).toBe(0);
    noNaN(r);
    expectInputError(() => mannWhitneyU([], [1]), 'a.length', InsufficientDataError);
    expectInputError(() => mannWhitneyU([1, 2], [Number.NaN]), 'b[0]');
  });
});

describe('KS and PSI: degenerate input', () => {
  it('identical samples: D = 0, p = 1; ties are stepped over together', () => {
    expect(ksTwoSample([1, 2, 2, 3], [1, 2, 2, 3])).toEqual({ d: 0, pValue: 1 });
    expect(ksTwoSample([1, 1, 1], [1, 1]).d).toBe(0);
    expect(ksTwoSample([0, 0], [1, 1]).d).toBe(1);
    expectInputError(() => ksTwoSample([], [1]), 'a.length', InsufficientDataError);
  });

  it('PSI of a distribution against itself is 0, constant data included', () => {
    const ref = Array.from({ length: 500 }, (_, i) => Math.sin(i) * 10);
    expect(psi(ref, ref)).toBeCloseTo(0, 15);
    expect(psi([2, 2, 2, 2], [2, 2])).toBe(0);
    // Everything moved into one bin: large, finite (empty shares become epsilon).
    const moved = psi(
      ref,
      ref.map(() => 1000),
    );
    expect(Number.isFinite(moved)).toBe(true);
    expect(moved).toBeGreaterThan(5);
  });

  it('PSI rejects empty inputs and bad options', () => {
    expectInputError(() => psi([], [1]), 'reference.length', InsufficientDataError);
    expectInputError(() => psi([1], []), 'current.length', InsufficientDataError);
    expectInputError(() => psi([1, 2], [1], { bins: 1 }), 'bins');
    expectInputError(() => psi([1, 2], [1], { epsilon: 0 }), 'epsilon');
    expectInputError(() => psi([1, Infinity], [1]), 'reference[1]');
  });
});

describe('relative lift and confidence sequences: degenerate input', () => {
  it('a control mean of 0 makes the lift undefined: typed error on control.mean', () => {
    const e = expectInputError(
      () => relativeLift({ n: 10, mean: 0, variance: 1 }, { n: 10, mean: 1, variance: 1 }),
      'control.mean',
    );
    expect(e.value).toBe(0);
    expectInputError(() => relativeLift([1], [1, 2]), 'control.n', InsufficientDataError);
  });

  it('zero variance gives a zero-width interval, not NaN', () => {
    const r = relativeLift([2, 2, 2], [3, 3]);
    expect(r).toEqual({ lift: 0.5, se: 0, ci: [0.5, 0.5] });
  });

  it('confidence sequence with se = 0: p = 1 at δ = 0, p = 0 otherwise', () => {
    const base = { nTotal: 100, alpha: 0.05, tuningN: 1000 };
    expect(confidenceSequence({ ...base, delta: 0, se: 0 })).toMatchObject({
      halfwidth: 0,
      ci: [0, 0],
      pValue: 1,
    });
    expect(confidenceSequence({ ...base, delta: 0.3, se: 0 })).toMatchObject({ halfwidth: 0, pValue: 0 });
    // A huge z must not overflow the e-value into NaN.
    expect(confidenceSequence({ ...base, delta: 1e6, se: 1e-6 }).pValue).toBe(0);
  });

  it('confidence sequence rejects bad parameters by name', () => {
    const ok = { delta: 1, se: 1, nTotal: 100, alpha: 0.05, tuningN: 1000 };
    expectInputError(() => confidenceSequence({ ...ok, alpha: 1 }), 'alpha');
    expectInputError(() => confidenceSequence({ ...ok, alpha: 0 }), 'alpha');
    expectInputError(() => confidenceSequence({ ...ok, nTotal: 0 }), 'nTotal');
    expectInputError(() => confidenceSequence({ ...ok, se: -1 }), 'se');
    expectInputError(() => confidenceSequence({ ...ok, delta: Number.NaN }), 'delta');
    expectInputError(() => confidenceSequence({ ...ok, tuningN: Infinity }), 'tuningN');
  });
});

describe('multiple testing, sample size and strata: degenerate input', () => {
  it('empty families give empty arrays; p outside [0, 1] is rejected', () => {
    expect(holm([])).toEqual([]);
    expect(benjaminiHochberg([])).toEqual([]);
    expectInputError(() => holm([0.1, 1.2]), 'p[1]');
    expectInputError(() => benjaminiHochberg([Number.NaN]), 'p[0]');
    expect(holm([0.5, 0.5, 0.5])).toEqual([1, 1, 1]);
    expect(holm([0, 0.01])).toEqual([0, 0.01]);
  });

  it('sample size rejects effects of 0 and levels outside (0, 1)', () => {
    expectInputError(() => sampleSizePerGroup({ alpha: 0.05, power: 0.8, sigma: 1, delta: 0 }), 'delta');
    expectInputError(() => sampleSizePerGroup({ alpha: 1, power: 0.8, sigma: 1, delta: 1 }), 'alpha');
    expectInputError(() => sampleSizePerGroup({ alpha: 0.05, power: 0, sigma: 1, delta: 1 }), 'power');
    expectInputError(() => sampleSizePerGroup({ alpha: 0.05, power: 0.8, sigma: 0, delta: 1 }), 'sigma');
    expect(sampleSizePerGroup({ alpha: 0.05, power: 0.8, sigma: 1, delta: -0.2 })).toBe(393);
  });

  it('combineStrata: empty is an error; exact strata (se = 0) dominate', () => {
    expectInputError(() => combineStrata([]), 'strata');
    expectInputError(() => combineStrata([{ estimate: Number.NaN, se: 1 }]), 'strata[0].estimate');
    expect(
      combineStrata([
        { estimate: 2, se: 0 },
        { estimate: 5, se: 1 },
      ]),
    ).toMatchObject({ estimate: 2, se: 0 });
  });
});
