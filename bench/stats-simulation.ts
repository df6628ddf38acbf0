/**
 * Monte-Carlo check of the rollout gate (issue 5, DESIGN.md §5): does looking at every analysis interval
 * keep the false-alarm rate at alpha, and what does that safety cost in power?
 *
 * - 2,000 A/A rollouts, each peeked at 50 times: the share of rollouts in which naive Welch (α = 0.05 at
 *   every peek) ever rejects, against the share in which the gate's always-valid confidence sequence ever
 *   rejects (and in which the gate ever decides pass or fail).
 * - 2,000 rollouts with a true 5% improvement of the primary metric: how often the gate passes within the
 *   50 peeks, and after how many observations; the baseline is one fixed-horizon look at the end with the
 *   same 2% bar.
 *
 * Observations are absolute errors |N(0, 12.5²)| (half-normal: skewed like real abs_error, mean ≈ 9.97); the
 * challenger's are scaled by 0.95 for a 5% lower mean. Arms are summarised incrementally (Welford), never
 * re-scanned. Seeded: the same figures on every run and machine.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from 'simple-statistics';
import {
  SummaryAccumulator,
  createRng,
  evaluateGate,
  independent,
  relativeLift,
  welchTTest,
  type GatePolicy,
  type Rng,
} from '../src/stats/index.js';
import { liftSequenceRejects } from './lift-sequence.js';
import { benchResult, type BenchResult } from './result.js';

export interface StatsBenchOptions {
  rollouts?: number;
  peeks?: number;
  /** Observations added to each arm between peeks. */
  perPeek?: number;
  seed?: number;
}

const ALPHA = 0.05;
const SCALE = 12.5;
const IMPROVEMENT = 0.05;

interface AaTrace {
  naiveAny: boolean;
  naiveLast: boolean;
  sequentialAny: boolean;
  gateAny: boolean;
}

interface PowerTrace {
  /** Total observations (both arms) at the first peek where the gate passed, or null. */
  passedAt: number | null;
  failed: boolean;
  fixedPass: boolean;
}

function policyFor(tuningN: number): GatePolicy {
  // DESIGN.md §7 defaults; tuningN is the planned total sample, where the confidence sequence is tightest.
  return {
    primaryMetric: {
      name: 'abs_error',
      direction: 'lower',
      minImprovement: 0.02,
      rollbackRelativeDegradation: 0.05,
    },
    analysis: { alpha: ALPHA, minSamples: 1000, tuningN },
  };
}

function addBatch(rng: Rng, acc: SummaryAccumulator, scale: number, count: number): void {
  for (let i = 0; i < count; i++) acc.push(Math.abs(rng.normal()) * scale);
}

function aaRollout(rng: Rng, peeks: number, perPeek: number, policy: GatePolicy): AaTrace {
  const champion = new SummaryAccumulator();
  const challenger = new SummaryAccumulator();
  const trace: AaTrace = { naiveAny: false, naiveLast: false, sequentialAny: false, gateAny: false };
  const tuningN = policy.analysis.tuningN;
  for (let k = 0; k < peeks; k++) {
    addBatch(rng, champion, SCALE, perPeek);
    addBatch(rng, challenger, SCALE, perPeek);
    const c = champion.summary();
    const t = challenger.summary();
    const naive = welchTTest(t, c).pValue < ALPHA;
    trace.naiveAny ||= naive;
    if (k === peeks - 1) trace.naiveLast = naive;
    trace.sequentialAny ||= liftSequenceRejects(c, t, ALPHA, tuningN);
    if (!trace.gateAny) {
      const d = evaluateGate({ metrics: { abs_error: independent(c, t) } }, policy).decision;
      trace.gateAny = d === 'pass' || d === 'fail';
    }
  }
  return trace;
}

function powerRollout(rng: Rng, peeks: number, perPeek: number, policy: GatePolicy): PowerTrace {
  const champion = new SummaryAccumulator();
  const challenger = new SummaryAccumulator();
  const trace: PowerTrace = { passedAt: null, failed: false, fixedPass: false };
  for (let k = 0; k < peeks; k++) {
    addBatch(rng, champion, SCALE, perPeek);
    addBatch(rng, challenger, SCALE * (1 - IMPROVEMENT), perPeek);
    const c = champion.summary();
    const t = challenger.summary();
    if (trace.passedAt === null && !trace.failed) {
      const d = evaluateGate({ metrics: { abs_error: independent(c, t) } }, policy).decision;
      if (d === 'pass') trace.passedAt = c.n + t.n;
      if (d === 'fail') trace.failed = true;
    }
    if (k === peeks - 1) {
      // Fixed horizon: one look, normal 95% interval of the lift; improvement = −lift for `lower`.
      const lift = relativeLift(c, t);
      trace.fixedPass = -lift.ci[1] >= 0.02;
    }
  }
  return trace;
}

/** NaN when no rollout passed (simple-statistics' median throws on an empty array). */
const medianOrNaN = (values: number[]): number => (values.length ? median(values) : Number.NaN);

export async function runStatsBench(options: StatsBenchOptions = {}): Promise<BenchResult[]> {
  const rollouts = options.rollouts ?? 2000;
  const peeks = options.peeks ?? 50;
  const perPeek = options.perPeek ?? 500;
  const seed = options.seed ?? 20250818;
  const horizon = 2 * peeks * perPeek;
  const policy = policyFor(horizon);
  const started = performance.now();

  const aaRng = createRng(seed);
  let naiveAny = 0;
  let naiveLast = 0;
  let sequentialAny = 0;
  let gateAny = 0;
  for (let i = 0; i < rollouts; i++) {
    const t = aaRollout(aaRng, peeks, perPeek, policy);
    naiveAny += +t.naiveAny;
    naiveLast += +t.naiveLast;
    sequentialAny += +t.sequentialAny;
    gateAny += +t.gateAny;
  }
  await Promise.resolve(); // let the event loop breathe between the two halves

  const powerRng = createRng(seed + 1);
  const passedAt: number[] = [];
  let failed = 0;
  let fixedPass = 0;
  for (let i = 0; i < rollouts; i++) {
    const t = powerRollout(powerRng, peeks, perPeek, policy);
    if (t.passedAt !== null) passedAt.push(t.passedAt);
    failed += +t.failed;
    fixedPass += +t.fixedPass;
  }
  const seconds = (performance.now() - started) / 1000;

  const rate = (count: number) => count / rollouts;
  const design =
    `${rollouts} rollouts × ${peeks} peeks, +${perPeek} observations per arm per peek ` +
    `(horizon ${horizon} total), half-normal abs_error, alpha ${ALPHA}, tuningN ${horizon}, seed ${seed}; ${seconds.toFixed(1)} s`;
  return [
    benchResult(
      'aa_false_positive_rate_sequential',
      rate(sequentialAny),
      'fraction of A/A rollouts',
      'naive Welch at alpha 0.05 at every peek',
      rate(naiveAny),
      `always-valid confidence sequence on the relative lift rejects at any peek; target ≤ ${ALPHA}. ${design}`,
    ),
    benchResult(
      'aa_false_positive_rate_naive_peeking',
      rate(naiveAny),
      'fraction of A/A rollouts',
      'naive Welch at alpha 0.05, one look at the end',
      rate(naiveLast),
      `Welch p < 0.05 at any of the peeks (what Argo/Flagger/Kayenta-style re-testing does). ${design}`,
    ),
    benchResult(
      'aa_false_decision_rate_gate',
      rate(gateAny),
      'fraction of A/A rollouts',
      'naive Welch at alpha 0.05 at every peek',
      rate(naiveAny),
      `the full gate (2% improvement bar, 5% rollback degradation) decides pass or fail at any peek. ${design}`,
    ),
    benchResult(
      'power_5pct_improvement',
      rate(passedAt.length),
      'fraction of rollouts',
      'fixed-horizon test, one look at the end, same 2% bar',
      rate(fixedPass),
      `true 5% lower abs_error; gate passes at some peek (it failed in ${failed}). ${design}`,
    ),
    benchResult(
      'median_samples_to_decision',
      medianOrNaN(passedAt),
      'observations (both arms)',
      'fixed-horizon sample (the whole horizon)',
      horizon,
      `median over the ${passedAt.length} rollouts the gate passed; true 5% improvement. ${design}`,
    ),
  ];
}

const entry = process.argv[1];
if (entry !== undefined && resolve(entry) === fileURLToPath(import.meta.url)) {
  const rows = await runStatsBench();
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
}
