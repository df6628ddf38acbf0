import { max } from 'simple-statistics';
import { categoricalDrift, ksTwoSample, psi } from '../stats/index.js';

export interface FeatureDrift {
  feature: string;
  /** Numbers (PSI over reference deciles, KS beside it) or categories (PSI over shares, chi-square). */
  kind: 'numeric' | 'categorical';
  psi: number;
  /** Numeric features. */
  ks?: { d: number; pValue: number };
  /** Categorical features: Pearson's test of homogeneity of the category counts. */
  chiSquare?: { statistic: number; df: number; pValue: number };
  /** Categorical features: the share of recent values in categories the reference never had. */
  unseenShare?: number;
  reference: number;
  current: number;
  drifted: boolean;
  reason: string;
}

/** Category counts by feature: a reference profile's, or a recent window's. */
export type CategoryCounts = Record<string, Record<string, number>>;

export interface DriftVerdict {
  drifted: boolean;
  features: FeatureDrift[];
  /** Features not checked and why (too few recent values, no reference). */
  skipped: Array<{ feature: string; reason: string }>;
  summary: string;
}

/**
 * Compares recent values of each monitored input (and of the predictions) with the reference profile the
 * champion was trained on. PSI decides (reference deciles, empty bins 1e-4, threshold 0.25 by default):
 * it measures how much the distribution moved, which is what matters to a model. KS is reported beside it:
 * with thousands of recent values its p-value is tiny for shifts no model would notice, so it does not
 * decide on its own. Categorical inputs (text feature values) are compared by their category shares the
 * same way: PSI decides, chi-square is reported.
 */
export function evaluateDrift(
  reference: Record<string, number[]>,
  current: Record<string, number[]>,
  opts: { psiThreshold: number; ksAlpha: number; minSamples: number },
  categories: { reference: CategoryCounts; current: CategoryCounts } = { reference: {}, current: {} },
): DriftVerdict {
  const features: FeatureDrift[] = [];
  const skipped: DriftVerdict['skipped'] = [];
  // Categorical inputs: PSI over category shares decides, as for numbers; chi-square is reported beside it
  // (with thousands of values its p-value flags shifts too small to matter, src/stats/categorical-drift.ts).
  for (const [feature, ref] of Object.entries(categories.reference)) {
    const cur = categories.current[feature] ?? {};
    const nRef = Object.values(ref).reduce((a, b) => a + b, 0);
    const nCur = Object.values(cur).reduce((a, b) => a + b, 0);
    if (nRef < 10) {
      skipped.push({ feature, reason: `reference has ${nRef} values` });
      continue;
    }
    if (nCur < opts.minSamples) {
      skipped.push({ feature, reason: `${nCur} recent values, fewer than ${opts.minSamples}` });
      continue;
    }
    const d = categoricalDrift(ref, cur);
    const drifted = d.psi > opts.psiThreshold;
    features.push({
      feature,
      kind: 'categorical',
      psi: d.psi,
      chiSquare: d.chiSquare,
      unseenShare: d.unseenShare,
      reference: nRef,
      current: nCur,
      drifted,
      reason: `${feature}: PSI ${d.psi.toFixed(3)} ${drifted ? '>' : '≤'} ${opts.psiThreshold} over category shares; χ² ${d.chiSquare.statistic.toFixed(1)} (df ${d.chiSquare.df}), p ${d.chiSquare.pValue.toPrecision(2)}${d.unseenShare > 0 ? `; ${(d.unseenShare * 100).toFixed(1)}% in categories training never saw` : ''}`,
    });
  }
  for (const [feature, ref] of Object.entries(reference)) {
    const cur = current[feature] ?? [];
    if (ref.length < 10) {
      skipped.push({ feature, reason: `reference has ${ref.length} values` });
      continue;
    }
    if (cur.length < opts.minSamples) {
      skipped.push({ feature, reason: `${cur.length} recent values, fewer than ${opts.minSamples}` });
      continue;
    }
    const p = psi(ref, cur);
    const ks = ksTwoSample(ref, cur);
    const drifted = p > opts.psiThreshold;
    features.push({
      feature,
      psi: p,
      kind: 'numeric',
      ks: { d: ks.d, pValue: ks.pValue },
      reference: ref.length,
      current: cur.length,
      drifted,
      reason: `${feature}: PSI ${p.toFixed(3)} ${drifted ? '>' : '≤'} ${opts.psiThreshold}; KS D ${ks.d.toFixed(3)}, p ${ks.pValue.toPrecision(2)}${ks.pValue < opts.ksAlpha ? ' (distributions differ)' : ''}`,
    });
  }
  const drifted = features.filter((f) => f.drifted);
  return {
    drifted: drifted.length > 0,
    features,
    skipped,
    summary: drifted.length
      ? `drift in ${drifted.map((f) => `${f.feature} (PSI ${f.psi.toFixed(2)})`).join(', ')}`
      : features.length
        ? `no drift: largest PSI ${max(features.map((f) => f.psi)).toFixed(3)} (${features.length} checked)`
        : `nothing to check: ${skipped.map((s) => `${s.feature}: ${s.reason}`).join('; ') || 'no reference profile'}`,
  };
}
