/** Relative lift of treatment over control with a delta-method standard error. */
import { StatsInputError } from './errors.js';
import { normalQuantile } from './normal.js';
import { toSummary, type Sample, type Summary } from './summary.js';

export interface LiftResult {
  /** (mean_t − mean_c) / |mean_c|. */
  lift: number;
  se: number;
  /** Normal interval, 95% unless `confidence` says otherwise. */
  ci: [number, number];
}

/**
 * lift = (m_t − m_c)/|m_c|; Var ≈ v_t/(n_t m_c²) + v_c m_t²/(n_c m_c⁴) (first-order delta method, arms
 * independent). A control mean of 0 makes the lift undefined: StatsInputError on `control.mean`.
 * Each arm needs n ≥ 2.
 */
export function relativeLift(
  control: Sample,
  treatment: Sample,
  options: { confidence?: number } = {},
): LiftResult {
  const c = toSummary('control', control, 2);
  const t = toSummary('treatment', treatment, 2);
  const { lift, se } = liftAndSe(c, t);
  const confidence = options.confidence ?? 0.95;
  if (!(confidence > 0 && confidence < 1)) {
    throw new StatsInputError('confidence', confidence, 'must lie strictly between 0 and 1');
  }
  const z = normalQuantile(1 - (1 - confidence) / 2);
  return { lift, se, ci: [lift - z * se, lift + z * se] };
}

/** The estimate and delta-method se without the interval (the gate feeds them to the confidence sequence). */
export function liftAndSe(control: Summary, treatment: Summary): { lift: number; se: number } {
  const mc = control.mean;
  if (mc === 0)
    throw new StatsInputError('control.mean', mc, 'relative lift is undefined when the control mean is 0');
  const mt = treatment.mean;
  const lift = (mt - mc) / Math.abs(mc);
  const mc2 = mc * mc;
  const variance =
    treatment.variance / (treatment.n * mc2) + (control.variance * mt * mt) / (control.n * mc2 * mc2);
  return { lift, se: Math.sqrt(variance) };
}
