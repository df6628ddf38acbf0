/**
 * One configuration of the A/A panel: many seeded rollouts of two arms drawn from one distribution, looked
 * at after every batch the way the rollout workflow analyses every interval. Counts the rollouts in which
 * the gate (src/stats evaluateGate, policy defaults of DESIGN.md §7) promotes, in which its always-valid
 * confidence sequence on the relative lift excludes 0, and in which naive Welch at α = 0.05 rejects.
 */
import { median } from 'simple-statistics';
import {
  createRng,
  evaluateGate,
  independent,
  relativeLift,
  summaryFromSums,
  welchTTest,
  type ArmData,
  type Decision,
  type GatePolicy,
  type Summary,
} from '../../src/stats/index.js';
import { bernoulliSkewness, skewnessFloor } from '../../src/stats/shape.js';
import { liftSequenceRejects } from '../lift-sequence.js';
import { emptySums, type Distribution, type Sums } from './distributions.js';

export const ALPHA = 0.05;

export interface PanelConfig {
  distribution: Distribution;
  /** Observations added to each arm between looks. */
  perLook: number;
  looks: number;
  rollouts: number;
  seed: number;
  /** The gate's bar; 0 for A/A (the easiest bar to clear by chance). */
  minImprovement: number;
  /**
   * Both arms' values capped here: the champion's q-quantile, as a rollout caps a metric at the start of a
   * stage from the champion's history (src/analysis/capping.ts). Absent: uncapped.
   */
  cap?: { quantile: number; value: number };
}

export interface AaRates {
  /** Share of rollouts whose first decisive gate verdict was `pass` (promotion of an identical model). */
  gateFalsePass: number;
  /** Share whose first decisive verdict was `fail` (rollback of an identical model); for context. */
  gateFalseFail: number;
  /** Share in which the confidence sequence on the relative lift excluded 0 at some look. */
  sequentialAnyReject: number;
  /** The same, counting only looks at which both arms had reached the skewness floor (src/stats/shape.ts). */
  sequentialAboveFloor: number;
  /** Share in which Welch p < α at some look. */
  naiveAnyReject: number;
}

export interface PowerFigures {
  /** Share of rollouts the gate passed within the looks. */
  passShare: number;
  /** Median total observations (both arms) at the first pass, over the rollouts that passed; NaN if none. */
  medianObservations: number;
  /** Share the gate failed (rolled back) first. */
  failShare: number;
  /** Share a single fixed-horizon look at the end (normal interval of the lift, same bar) would pass. */
  fixedHorizonPass: number;
}

/** DESIGN.md §7 defaults as in bench/stats-simulation.ts; tuningN is the planned total sample. */
export function policyFor(tuningN: number, minImprovement: number): GatePolicy {
  return {
    primaryMetric: {
      name: 'abs_error',
      direction: 'lower',
      minImprovement,
      rollbackRelativeDegradation: 0.05,
    },
    analysis: { alpha: ALPHA, minSamples: 1000, tuningN },
  };
}

export const horizonOf = (c: Pick<PanelConfig, 'looks' | 'perLook'>): number => 2 * c.looks * c.perLook;

const armData = (d: Distribution, s: Sums, summary: Summary): ArmData =>
  d.counts ? { successes: s.sum, n: s.n } : summary;

function gateDecision(
  d: Distribution,
  champion: Sums,
  challenger: Sums,
  c: Summary,
  t: Summary,
  policy: GatePolicy,
): Decision {
  const evidence = independent(armData(d, champion, c), armData(d, challenger, t));
  return evaluateGate({ metrics: { abs_error: evidence } }, policy).decision;
}

/** Both arms have the observations their skewness calls for, as the gate judges it (skew-floor.ts). */
function aboveSkewnessFloor(d: Distribution, c: Summary, t: Summary): boolean {
  const skew = (s: Summary): number => (d.counts ? bernoulliSkewness(s.mean) : (s.skewness ?? 0));
  const floor = skewnessFloor(Math.max(Math.abs(skew(c)), Math.abs(skew(t))));
  return Math.min(c.n, t.n) >= floor;
}

/** Summary of the arm; counts get the gate's own 0/1 summary (the sums of squares equal the sums). */
const summaryOf = (s: Sums): Summary => summaryFromSums(s.n, s.sum, s.sumSq, s.sumCubes);

export function runAa(config: PanelConfig): AaRates {
  const { distribution: d, perLook, looks, rollouts } = config;
  const policy = policyFor(horizonOf(config), config.minImprovement);
  const rng = createRng(config.seed);
  let pass = 0;
  let fail = 0;
  let sequential = 0;
  let aboveFloor = 0;
  let naive = 0;
  for (let r = 0; r < rollouts; r++) {
    const champion = emptySums();
    const challenger = emptySums();
    let decided = false;
    let seqAny = false;
    let floorAny = false;
    let naiveAny = false;
    for (let k = 0; k < looks; k++) {
      d.add(rng, champion, perLook, 1, config.cap?.value);
      d.add(rng, challenger, perLook, 1, config.cap?.value);
      const c = summaryOf(champion);
      const t = summaryOf(challenger);
      if (!naiveAny) naiveAny = welchTTest(t, c).pValue < ALPHA;
      // A zero champion mean (rare events not yet seen) leaves the relative lift undefined: no rejection.
      if ((!seqAny || !floorAny) && c.mean !== 0) {
        const rejects = liftSequenceRejects(c, t, ALPHA, policy.analysis.tuningN);
        seqAny ||= rejects;
        floorAny ||= rejects && aboveSkewnessFloor(d, c, t);
      }
      if (!decided) {
        // A real rollout stops at its first promotion or rollback.
        const decision = gateDecision(d, champion, challenger, c, t, policy);
        if (decision === 'pass') pass += 1;
        if (decision === 'fail') fail += 1;
        decided = decision === 'pass' || decision === 'fail';
      }
    }
    sequential += +seqAny;
    aboveFloor += +floorAny;
    naive += +naiveAny;
  }
  return {
    gateFalsePass: pass / rollouts,
    gateFalseFail: fail / rollouts,
    sequentialAnyReject: sequential / rollouts,
    sequentialAboveFloor: aboveFloor / rollouts,
    naiveAnyReject: naive / rollouts,
  };
}

/** The challenger's values are scaled by 1 − improvement (lower is better), a true relative improvement. */
export function runPower(config: PanelConfig, improvement: number): PowerFigures {
  const { distribution: d, perLook, looks, rollouts } = config;
  const policy = policyFor(horizonOf(config), config.minImprovement);
  const rng = createRng(config.seed);
  const passedAt: number[] = [];
  let failed = 0;
  let fixedPass = 0;
  for (let r = 0; r < rollouts; r++) {
    const champion = emptySums();
    const challenger = emptySums();
    let decided = false;
    for (let k = 0; k < looks; k++) {
      d.add(rng, champion, perLook, 1, config.cap?.value);
      d.add(rng, challenger, perLook, 1 - improvement, config.cap?.value);
      if (decided && k < looks - 1) continue;
      const c = summaryOf(champion);
      const t = summaryOf(challenger);
      if (!decided) {
        const decision = gateDecision(d, champion, challenger, c, t, policy);
        if (decision === 'pass') passedAt.push(c.n + t.n);
        if (decision === 'fail') failed += 1;
        decided = decision === 'pass' || decision === 'fail';
      }
      if (k === looks - 1 && c.mean !== 0) {
        // Improvement = −lift for `lower`: the normal interval's upper end of the lift must clear the bar.
        fixedPass += +(-relativeLift(c, t).ci[1] >= config.minImprovement);
      }
    }
  }
  return {
    passShare: passedAt.length / rollouts,
    medianObservations: passedAt.length ? median(passedAt) : Number.NaN,
    failShare: failed / rollouts,
    fixedHorizonPass: fixedPass / rollouts,
  };
}
