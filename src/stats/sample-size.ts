/**
 * How many observations, and how long, a comparison needs. Used to tell a person before a rollout whether
 * a stage's duration can possibly detect the effect the policy asks for.
 */
import { StatsInputError, requireFinite, requireOpenUnit, requirePositive } from './errors.js';
import { normalQuantile } from './normal.js';
import { sequentialZ } from './sequential.js';

export interface SampleSizeInput {
  /** Two-sided significance level. */
  alpha: number;
  /** Probability of detecting an effect of size `delta`. */
  power: number;
  /** Per-observation standard deviation of the metric. */
  sigma: number;
  /** Effect to detect, in the metric's units (its sign is ignored). */
  delta: number;
}

/**
 * n per group = ⌈2(z₁₋α/₂ + z_power)²σ²/δ²⌉ for a two-sided fixed-horizon comparison of two means with equal
 * allocation. The product is nudged down by one part in 10¹² before rounding up, so a value that is an
 * integer up to floating-point noise is not rounded to the next one.
 */
export function sampleSizePerGroup(input: SampleSizeInput): number {
  const alpha = requireOpenUnit('alpha', input.alpha);
  const power = requireOpenUnit('power', input.power);
  const sigma = requirePositive('sigma', input.sigma);
  const delta = Math.abs(requireFinite('delta', input.delta));
  if (delta === 0) throw new StatsInputError('delta', input.delta, 'an effect of 0 cannot be detected');
  const z = normalQuantile(1 - alpha / 2) + normalQuantile(power);
  const n = (2 * z * z * sigma * sigma) / (delta * delta);
  return Math.max(2, Math.ceil(n * (1 - 1e-12)));
}

/** Smallest absolute effect a fixed-horizon two-sided test detects with the given power and arm sizes. */
export function minimumDetectableEffect(input: {
  alpha: number;
  power: number;
  sigma: number;
  nChallenger: number;
  nChampion: number;
}): number {
  const alpha = requireOpenUnit('alpha', input.alpha);
  const power = requireOpenUnit('power', input.power);
  const sigma = requirePositive('sigma', input.sigma);
  const n1 = requirePositive('nChallenger', input.nChallenger);
  const n2 = requirePositive('nChampion', input.nChampion);
  return (normalQuantile(1 - alpha / 2) + normalQuantile(power)) * sigma * Math.sqrt(1 / n1 + 1 / n2);
}

export interface StageDurationInput extends SampleSizeInput {
  /** Observations with an outcome per second, both arms together (after feedback joins). */
  ratePerSecond: number;
  /** Share of that traffic the challenger receives (0.05 for a 5% canary, 0.5 for 50%). */
  challengerShare: number;
  /**
   * The margin the gate demands on top of significance, in the same units as `delta` (e.g.
   * minImprovement × |champion mean|): the detectable distance is then |delta| − margin. Default 0.
   */
  margin?: number;
  /** When given, also size the always-valid confidence sequence the gate uses (policy analysis.tuningN). */
  tuningN?: number;
}

export interface SampleRequirement {
  challenger: number;
  champion: number;
  total: number;
  seconds: number;
}

export interface StageDuration {
  /** Per group with a 50/50 split, from sampleSizePerGroup. */
  perGroupEqualSplit: number;
  /** One look at the end with a fixed-horizon test, at the given split. */
  fixedHorizon: SampleRequirement;
  /** The gate's sequential test: total observations at which its power reaches `power`. */
  sequential?: SampleRequirement;
}

/**
 * How long a stage must run. With a share w for the challenger, Var(diff) = σ²/(N·w(1−w)), so the total N
 * is the equal-split requirement scaled by 1/(4w(1−w)) (5% canary: 5.3× the 50/50 total). The sequential
 * figure solves |δ| − margin ≥ (z_cs(N) + z_power)·se(N) for the smallest N, z_cs being the
 * confidence-sequence boundary; it is the price of being allowed to look at every interval.
 */
export function stageDuration(input: StageDurationInput): StageDuration {
  const rate = requirePositive('ratePerSecond', input.ratePerSecond);
  const w = requireOpenUnit('challengerShare', input.challengerShare);
  const margin = input.margin ?? 0;
  requireFinite('margin', margin);
  const effect = Math.abs(input.delta) - Math.abs(margin);
  if (!(effect > 0)) {
    throw new StatsInputError('delta', input.delta, `must exceed the margin (${margin}) to be detectable`);
  }
  const perGroupEqualSplit = sampleSizePerGroup({ ...input, delta: effect });
  const requirement = (total: number): SampleRequirement => ({
    challenger: Math.ceil(total * w),
    champion: Math.ceil(total * (1 - w)),
    total: Math.ceil(total),
    seconds: Math.ceil(total) / rate,
  });
  const fixedTotal = (2 * perGroupEqualSplit) / (4 * w * (1 - w));
  const out: StageDuration = { perGroupEqualSplit, fixedHorizon: requirement(fixedTotal) };
  if (input.tuningN !== undefined) {
    const tuningN = requirePositive('tuningN', input.tuningN);
    const zPower = normalQuantile(input.power);
    const slack = (n: number): number =>
      (effect * Math.sqrt(n * w * (1 - w))) / input.sigma - sequentialZ(n, input.alpha, tuningN) - zPower;
    let hi = Math.max(4, fixedTotal);
    let lo = 1;
    for (let i = 0; slack(hi) < 0; i++) {
      lo = hi;
      hi *= 2;
      if (i > 200)
        throw new StatsInputError('delta', input.delta, 'too small to detect with any sample size');
    }
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (slack(mid) >= 0) hi = mid;
      else lo = mid;
    }
    out.sequential = requirement(hi);
  }
  return out;
}
