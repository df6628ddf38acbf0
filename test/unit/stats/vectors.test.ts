import { describe, expect, it } from 'vitest';
import {
  benjaminiHochberg,
  confidenceSequence,
  holm,
  ksTwoSample,
  mannWhitneyU,
  normalCdf,
  normalQuantile,
  pairedTTest,
  psi,
  relativeLift,
  sampleSizePerGroup,
  sequentialRho,
  srmTest,
  studentTCdf,
  studentTQuantile,
  summarize,
  twoProportionZTest,
  welchTTest,
} from '../../../src/stats/index.js';
import { DIST_TOL, STAT_TOL, expectClose, loadVectors } from './helpers.js';

/* Shapes of test/fixtures/stats-vectors.json (SciPy 1.17 / NumPy 2.4). */
interface WelchCase {
  x: number[];
  y: number[];
  summary: { n1: number; mean1: number; var1: number; n2: number; mean2: number; var2: number };
  t: number;
  df: number;
  p_two_sided: number;
  p_less: number;
  p_greater: number;
  diff: number;
  se: number;
  ci95: [number, number];
}
interface PairedCase {
  x: number[];
  y: number[];
  t: number;
  df: number;
  p_two_sided: number;
}
interface ArmCase {
  n: number;
  mean: number;
  var: number;
}
interface Vectors {
  welch: WelchCase[];
  paired: PairedCase[];
  student_t_cdf: Array<{ t: number; df: number; cdf: number }>;
  student_t_ppf: Array<{ p: number; df: number; q: number }>;
  normal_cdf: Array<{ z: number; cdf: number }>;
  normal_ppf: Array<{ p: number; q: number }>;
  two_proportion: Array<{ x1: number; n1: number; x2: number; n2: number; z: number; p_two_sided: number }>;
  srm: Array<{ observed: number[]; expected_weights: number[]; chi2: number; df: number; p: number }>;
  mann_whitney: Array<{ x: number[]; y: number[]; u1: number; p_two_sided: number }>;
  ks_2samp: Array<{ x: number[]; y: number[]; d: number; p_asymptotic: number }>;
  psi: Array<{ reference: number[]; current: number[]; bins: number; epsilon: number; psi: number }>;
  sample_size: Array<{ alpha: number; power: number; sigma: number; delta: number; n_per_group: number }>;
  relative_lift: Array<{
    control: ArmCase;
    treatment: ArmCase;
    lift: number;
    se: number;
    ci95: [number, number];
  }>;
  sequential: Array<{
    alpha: number;
    tuning_n: number;
    n_total: number;
    se: number;
    delta: number;
    rho: number;
    halfwidth: number;
    ci: [number, number];
    p_value: number;
  }>;
  multiple_testing: Array<{ p: number[]; holm: number[]; bh: number[] }>;
}

const raw = loadVectors();
const v = raw as unknown as Vectors;
const arm = (a: ArmCase) => ({ n: a.n, mean: a.mean, variance: a.var });

const FAMILIES = [
  'welch',
  'paired',
  'student_t_cdf',
  'student_t_ppf',
  'normal_cdf',
  'normal_ppf',
  'two_proportion',
  'srm',
  'mann_whitney',
  'ks_2samp',
  'psi',
  'sample_size',
  'relative_lift',
  'sequential',
  'multiple_testing',
];

describe('stats-vectors.json (SciPy reference)', () => {
  it('every function family in the file is covered here', () => {
    const keys = Object.keys(raw).filter((k) => Array.isArray(raw[k]));
    expect(keys.sort()).toEqual([...FAMILIES].sort());
    for (const k of FAMILIES) expect((raw[k] as unknown[]).length, k).toBeGreaterThan(0);
  });

  it('welch: arrays and summaries, all three alternatives, diff/se/ci', () => {
    v.welch.forEach((c, i) => {
      const s = c.summary;
      const fromSummary = welchTTest(
        { n: s.n1, mean: s.mean1, variance: s.var1 },
        { n: s.n2, mean: s.mean2, variance: s.var2 },
      );
      for (const [label, r] of [
        ['arrays', welchTTest(c.x, c.y)],
        ['summaries', fromSummary],
      ] as const) {
        const l = `welch[${i}] ${label}`;
        // t and diff of nearly equal means lose digits to cancellation in the inputs themselves, not here.
        expectClose(r.t, c.t, STAT_TOL, `${l} t`);
        expectClose(r.df, c.df, STAT_TOL, `${l} df`);
        expectClose(r.pValue, c.p_two_sided, STAT_TOL, `${l} p`);
        expectClose(r.diff, c.diff, STAT_TOL, `${l} diff`);
        expectClose(r.se, c.se, STAT_TOL, `${l} se`);
        expectClose(r.ci[0], c.ci95[0], STAT_TOL, `${l} ci low`);
        expectClose(r.ci[1], c.ci95[1], STAT_TOL, `${l} ci high`);
      }
      expectClose(
        welchTTest(c.x, c.y, { alternative: 'less' }).pValue,
        c.p_less,
        STAT_TOL,
        `welch[${i}] p_less`,
      );
      expectClose(
        welchTTest(c.x, c.y, { alternative: 'greater' }).pValue,
        c.p_greater,
        STAT_TOL,
        `welch[${i}] p_greater`,
      );
      const sx = summarize(c.x);
      expect(sx.n).toBe(s.n1);
      expectClose(sx.mean, s.mean1, 1e-12, `welch[${i}] mean1`);
      expectClose(sx.variance, s.var1, 1e-12, `welch[${i}] var1`);
    });
  });

  it('paired', () => {
    v.paired.forEach((c, i) => {
      const r = pairedTTest(c.x, c.y);
      expectClose(r.t, c.t, STAT_TOL, `paired[${i}] t`);
      expect(r.df).toBe(c.df);
      expectClose(r.pValue, c.p_two_sided, STAT_TOL, `paired[${i}] p`);
    });
  });

  it('student_t_cdf', () => {
    for (const c of v.student_t_cdf)
      expectClose(studentTCdf(c.t, c.df), c.cdf, DIST_TOL, `t.cdf(${c.t}, ${c.df})`);
  });

  it('student_t_ppf', () => {
    for (const c of v.student_t_ppf)
      expectClose(studentTQuantile(c.p, c.df), c.q, DIST_TOL, `t.ppf(${c.p}, ${c.df})`);
  });

  it('normal_cdf', () => {
    for (const c of v.normal_cdf) expectClose(normalCdf(c.z), c.cdf, DIST_TOL, `norm.cdf(${c.z})`);
  });

  it('normal_ppf', () => {
    for (const c of v.normal_ppf) expectClose(normalQuantile(c.p), c.q, DIST_TOL, `norm.ppf(${c.p})`);
  });

  it('two_proportion', () => {
    v.two_proportion.forEach((c, i) => {
      const r = twoProportionZTest(c.x1, c.n1, c.x2, c.n2);
      expectClose(r.z, c.z, STAT_TOL, `two_proportion[${i}] z`);
      expectClose(r.pValue, c.p_two_sided, STAT_TOL, `two_proportion[${i}] p`);
    });
  });

  it('srm', () => {
    v.srm.forEach((c, i) => {
      const r = srmTest(c.observed, c.expected_weights);
      expectClose(r.chi2, c.chi2, STAT_TOL, `srm[${i}] chi2`);
      expect(r.df).toBe(c.df);
      expectClose(r.pValue, c.p, STAT_TOL, `srm[${i}] p`);
    });
  });

  it('mann_whitney', () => {
    v.mann_whitney.forEach((c, i) => {
      const r = mannWhitneyU(c.x, c.y);
      expectClose(r.u, c.u1, STAT_TOL, `mann_whitney[${i}] u`);
      expectClose(r.pValue, c.p_two_sided, STAT_TOL, `mann_whitney[${i}] p`);
    });
  });

  it('ks_2samp', () => {
    v.ks_2samp.forEach((c, i) => {
      const r = ksTwoSample(c.x, c.y);
      expectClose(r.d, c.d, STAT_TOL, `ks_2samp[${i}] d`);
      expectClose(r.pValue, c.p_asymptotic, STAT_TOL, `ks_2samp[${i}] p`);
    });
  });

  it('psi', () => {
    v.psi.forEach((c, i) => {
      expectClose(
        psi(c.reference, c.current, { bins: c.bins, epsilon: c.epsilon }),
        c.psi,
        STAT_TOL,
        `psi[${i}]`,
      );
    });
    // The documented defaults are the reference's settings.
    const c = v.psi[0]!;
    expectClose(psi(c.reference, c.current), c.psi, STAT_TOL, 'psi defaults');
  });

  it('sample_size', () => {
    for (const c of v.sample_size) {
      expect(sampleSizePerGroup({ alpha: c.alpha, power: c.power, sigma: c.sigma, delta: c.delta })).toBe(
        c.n_per_group,
      );
    }
  });

  it('relative_lift', () => {
    v.relative_lift.forEach((c, i) => {
      const r = relativeLift(arm(c.control), arm(c.treatment));
      expectClose(r.lift, c.lift, STAT_TOL, `relative_lift[${i}] lift`);
      expectClose(r.se, c.se, STAT_TOL, `relative_lift[${i}] se`);
      expectClose(r.ci[0], c.ci95[0], STAT_TOL, `relative_lift[${i}] ci low`);
      expectClose(r.ci[1], c.ci95[1], STAT_TOL, `relative_lift[${i}] ci high`);
    });
  });

  it('sequential', () => {
    v.sequential.forEach((c, i) => {
      const r = confidenceSequence({
        delta: c.delta,
        se: c.se,
        nTotal: c.n_total,
        alpha: c.alpha,
        tuningN: c.tuning_n,
      });
      expectClose(sequentialRho(c.alpha, c.tuning_n), c.rho, STAT_TOL, `sequential[${i}] rho`);
      expectClose(r.halfwidth, c.halfwidth, STAT_TOL, `sequential[${i}] halfwidth`);
      expectClose(r.ci[0], c.ci[0], STAT_TOL, `sequential[${i}] ci low`);
      expectClose(r.ci[1], c.ci[1], STAT_TOL, `sequential[${i}] ci high`);
      expectClose(r.pValue, c.p_value, STAT_TOL, `sequential[${i}] p`);
    });
  });

  it('multiple_testing', () => {
    v.multiple_testing.forEach((c, i) => {
      holm(c.p).forEach((p, j) => expectClose(p, c.holm[j]!, STAT_TOL, `holm[${i}][${j}]`));
      benjaminiHochberg(c.p).forEach((p, j) => expectClose(p, c.bh[j]!, STAT_TOL, `bh[${i}][${j}]`));
    });
  });
});
