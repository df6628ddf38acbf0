import { max } from 'simple-statistics';
import { ksTwoSample, psi } from '../stats/index.js';

export interface FeatureDrift {
  feature: string;
  psi: number;
  ks: { d: number; pValue: number };
  reference: number;
  current: number;
  drifted: boolean;
  reason: string;
}

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
 * decide on its own.
 */
export function evaluateDrift(
  reference: Record<string, number[]>,
  current: Record<string, number[]>,
  opts: { psiThreshold: number; ksAlpha: number; minSamples: number },
): DriftVerdict {
  const features: FeatureDrift[] = [];
  const skipped: DriftVerdict['skipped'] = [];
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
