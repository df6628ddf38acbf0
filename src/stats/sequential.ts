/**
 * Always-valid confidence sequences (Waudby-Smith, Ramdas et al., normal-mixture boundary). A rollout is
 * analyzed every minute; re-running a fixed-horizon test at each look inflates the false-alarm rate far
 * above alpha (bench/stats-simulation.ts measures it). The mixture boundary holds uniformly over time:
 * P(∃ n: the true effect is outside the interval at n) ≤ alpha, so the gate may look as often as it likes.
 */
import {
  StatsInputError,
  requireFinite,
  requireNonNegative,
  requireOpenUnit,
  requirePositive,
} from './errors.js';

export interface ConfidenceSequenceInput {
  /** Estimated effect (difference or relative lift). */
  delta: number;
  /** Its standard error at the current sample size. */
  se: number;
  /** Total observations behind the estimate (both arms; pairs in paired mode). */
  nTotal: number;
  alpha: number;
  /** N*: the sample size at which the boundary is tightest (policy `analysis.tuningN`). */
  tuningN: number;
}

export interface ConfidenceSequenceResult {
  halfwidth: number;
  ci: [number, number];
  /** Always-valid p-value for H₀: effect = 0, i.e. min(1, 1/E) with E the mixture e-value. */
  pValue: number;
  rho: number;
}

/** Mixture width ρ that minimises the boundary at N = tuningN. */
export function sequentialRho(alpha: number, tuningN: number): number {
  const l = -2 * Math.log(alpha);
  return Math.sqrt((l + Math.log(l + 1)) / tuningN);
}

/** Boundary in standard-error units: the interval is δ ± se·sequentialZ(...). */
export function sequentialZ(nTotal: number, alpha: number, tuningN: number): number {
  const rho = sequentialRho(alpha, tuningN);
  const nr2 = nTotal * rho * rho;
  return Math.sqrt(((2 * (nr2 + 1)) / nr2) * Math.log(Math.sqrt(nr2 + 1) / alpha));
}

/**
 * halfwidth = se·√N·√(2(Nρ²+1)/(N²ρ²)·ln(√(Nρ²+1)/α)); p = min(1, 1/E),
 * E = (Nρ²+1)^(−½)·exp(Nρ²z²/(2(Nρ²+1))), z = δ/se. Zero se (a deterministic metric) gives a zero-width
 * interval, p = 1 for δ = 0 and p = 0 otherwise.
 */
export function confidenceSequence(input: ConfidenceSequenceInput): ConfidenceSequenceResult {
  const delta = requireFinite('delta', input.delta);
  const se = requireNonNegative('se', input.se);
  const nTotal = requirePositive('nTotal', input.nTotal);
  const alpha = requireOpenUnit('alpha', input.alpha);
  const tuningN = requirePositive('tuningN', input.tuningN);
  const rho = sequentialRho(alpha, tuningN);
  if (se === 0) return { halfwidth: 0, ci: [delta, delta], pValue: delta === 0 ? 1 : 0, rho };
  const halfwidth = se * sequentialZ(nTotal, alpha, tuningN);
  return {
    halfwidth,
    ci: [delta - halfwidth, delta + halfwidth],
    pValue: sequentialPValue(delta / se, nTotal, rho),
    rho,
  };
}

/** min(1, 1/E) evaluated in log space so large z cannot overflow E. */
export function sequentialPValue(z: number, nTotal: number, rho: number): number {
  if (Number.isNaN(z)) throw new StatsInputError('z', z, 'must be a number');
  if (!Number.isFinite(z)) return 0;
  const nr2 = nTotal * rho * rho;
  const logE = -0.5 * Math.log1p(nr2) + (nr2 * z * z) / (2 * (nr2 + 1));
  return logE <= 0 ? 1 : Math.exp(-logE);
}
