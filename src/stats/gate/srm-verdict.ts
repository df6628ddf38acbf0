/**
 * The gate's sample-ratio check: a mismatch between the intended and the observed split means assignment or
 * logging is broken, so no metric can be trusted (evaluateGate then pauses whatever the metrics say).
 */
import { InsufficientDataError } from '../errors.js';
import { SRM_ALPHA, srmTestStrata } from '../srm.js';
import type { SrmFinding } from './findings.js';
import { srmReason } from './format.js';
import type { SrmInput, SrmVerdict } from './types.js';

export function evaluateSrm(srm: SrmInput | readonly SrmInput[]): SrmVerdict {
  const periods: readonly SrmInput[] = isList(srm) ? srm : [srm];
  const notTested = (cause: 'empty-period' | 'few-expected', observed: number[]): SrmVerdict => ({
    tested: false,
    chi2: 0,
    df: 0,
    pValue: 1,
    observed,
    expected: [],
    mismatch: false,
    reason: srmReason({ code: 'untested', cause }),
  });
  let r: ReturnType<typeof srmTestStrata>;
  try {
    r = srmTestStrata(periods);
  } catch (e) {
    if (e instanceof InsufficientDataError) return notTested('empty-period', []);
    throw e;
  }
  const observed = periods.flatMap((p) => [...p.observed]);
  // Pearson's chi-square approximation needs expected counts of about 5 or more.
  if (r.expected.some((e) => e < 5)) return notTested('few-expected', observed);
  const mismatch = r.pValue < SRM_ALPHA;
  const finding: SrmFinding = {
    code: mismatch ? 'mismatch' : 'consistent',
    periods,
    chi2: r.chi2,
    df: r.df,
    pValue: r.pValue,
  };
  return {
    tested: true,
    chi2: r.chi2,
    df: r.df,
    pValue: r.pValue,
    observed,
    expected: r.expected,
    mismatch,
    reason: srmReason(finding),
  };
}

function isList(srm: SrmInput | readonly SrmInput[]): srm is readonly SrmInput[] {
  return Array.isArray(srm);
}
