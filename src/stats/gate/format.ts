/**
 * Every sentence the gate writes, from its findings (findings.ts). These sentences are stored in
 * analyses.result, shown by the CLI and sent in alerts, so their wording and number formatting are pinned by
 * test/unit/stats/gate/prose.test.ts: change them deliberately, never as a side effect.
 */
import { SRM_ALPHA } from '../srm.js';
import type {
  CheckFinding,
  GuardrailSubject,
  PrimaryFinding,
  RelativeKind,
  RelativeUndefined,
  SampleSize,
  SrmFinding,
  TestedOutcome,
  WaitingFinding,
} from './findings.js';
import type { Decision, GateResult } from './types.js';

/* ── the verdict's one line ── */

/** One line a person can act on: what failed, or what passed, or why it is still open. */
export function summarizeGate(gate: GateResult): string {
  const failing = [...gate.metrics, ...gate.guardrails, ...(gate.segments ? [gate.segments] : [])]
    .filter((v) => v.status === 'fail')
    .map((v) => v.reason);
  if (gate.decision === 'fail' && failing.length) return failing.join(' ');
  if (gate.decision === 'invalid' && gate.srm) return gate.srm.reason;
  if (gate.decision === 'pass') return gate.metrics.map((m) => m.reason).join(' ');
  const open = gate.metrics.filter((m) => m.status !== 'pass').map((m) => m.reason);
  return open.join(' ') || gate.reasons[0] || gate.decision;
}

/* ── primary metrics ── */

export function primaryReason(metric: string, f: PrimaryFinding): string {
  switch (f.code) {
    case 'nothing-recorded':
    case 'too-few-samples':
    case 'skewed':
      return waitingReason(metric, f);
    case 'relative-undefined':
      return `${metric}: inconclusive: ${relativeUndefined(f.cause)} (${sampleText(f.sample)}).`;
  }
  const summary =
    `${metric} (${f.direction} is better): challenger ${describeChange(f.improvement)}; ` +
    `${level(f.alpha)} always-valid interval of the improvement [${pct(f.interval[0])}, ${pct(f.interval[1])}], ` +
    `p = ${fmtP(f.pValue)}; ${sampleText(f.sample)}`;
  const bar = pct(f.minImprovement);
  switch (f.code) {
    case 'pass':
      return `${summary}. Pass: the interval clears the required ${bar} improvement.`;
    case 'futile':
      return `${summary}. Inconclusive: the interval lies below the required ${bar}, so more data will not make it pass.`;
    case 'short':
      return `${summary}. Inconclusive: the interval does not yet clear the required ${bar}.`;
    case 'degraded':
      return (
        `${summary}. Fail: worse than the ${pct(f.limit)} degradation that triggers a rollback ` +
        `(p = ${fmtP(f.rollbackPValue)}).`
      );
  }
}

/* ── guardrails ── */

export function guardrailWaitingReason(subject: GuardrailSubject, f: WaitingFinding): string {
  return waitingReason(guardrailName(subject), f);
}

/** A guardrail's reason: the reasons of the checks that decided its status, in order. */
export function guardrailReason(checkReasons: readonly string[]): string {
  return checkReasons.join(' ');
}

export function checkReason(subject: GuardrailSubject, f: CheckFinding): string {
  const name = guardrailName(subject);
  switch (f.code) {
    case 'level': {
      const fmt = f.proportion ? (v: number) => pct(v, 3) : fmtNum;
      return (
        `${name}: challenger ${fmt(f.estimate)} vs ${f.kind === 'max' ? 'limit' : 'rollback level'} ${fmt(f.limit)}; ` +
        `${level(f.alpha)} always-valid interval [${fmt(f.interval[0])}, ${fmt(f.interval[1])}]; ${sampleText(f.sample)}. ` +
        `${testedOutcome(f.outcome)}.`
      );
    }
    case 'increase':
      return (
        `${name}: challenger ${signedPct(f.estimate)} vs champion (${increaseLabel(f.kind)} ${pct(f.limit)}); ` +
        `${level(f.alpha)} always-valid interval [${signedPct(f.interval[0])}, ${signedPct(f.interval[1])}]; ` +
        `${sampleText(f.sample)}. ${testedOutcome(f.outcome)}.`
      );
    case 'increase-undefined':
      return `${name}: ${increaseLabel(f.kind)} ${pct(f.limit)} cannot be checked: ${relativeUndefined(f.cause)}.`;
    case 'quantile-level':
      return descriptive(
        `${name}: challenger ${fmtNum(f.challenger)} vs ${f.kind === 'max' ? 'limit' : 'rollback level'} ${fmtNum(f.limit)}`,
        f.sample,
        f.breach,
      );
    case 'quantile-increase':
      return descriptive(
        `${name}: challenger ${fmtNum(f.challenger)} vs champion ${fmtNum(f.champion)} ` +
          `(${signedPct(f.increase)}, limit ${pct(f.limit)})`,
        f.sample,
        f.breach,
      );
    case 'quantile-increase-undefined':
      return `${name}: relative limit cannot be checked: the champion's value is ${f.champion}.`;
  }
}

function guardrailName(s: GuardrailSubject): string {
  if (s.quantile === undefined) return s.metric;
  // The analysis keys a quantile's evidence `metric@q0.95`; a reason says it once, as `metric p95`.
  const metric = s.metric.endsWith(`@q${s.quantile}`)
    ? s.metric.slice(0, -`@q${s.quantile}`.length)
    : s.metric;
  return `${metric} p${trimNumber(s.quantile * 100)}`;
}

function increaseLabel(kind: RelativeKind): string {
  return kind === 'maxRelativeIncrease' ? 'allowed increase' : 'rollback increase';
}

function testedOutcome(o: TestedOutcome): string {
  switch (o.code) {
    case 'breach':
      return `Fail: beyond the limit (Holm-adjusted p = ${fmtP(o.adjustedPValue)})`;
    case 'within':
      return 'Pass: within the limit';
    case 'holds':
      return `Holds: not shown beyond the rollback level (p = ${fmtP(o.pValue)})`;
    case 'open':
      return 'Inconclusive: the interval still reaches the limit';
  }
}

function descriptive(comparison: string, sample: SampleSize, breach: boolean): string {
  return (
    `${comparison} (descriptive comparison; ${sampleText(sample)}). ` +
    `${breach ? 'Fail: above the limit' : 'Pass: within the limit'}.`
  );
}

/* ── sample ratio and the decision ── */

export function srmReason(f: SrmFinding): string {
  switch (f.code) {
    case 'untested':
      return `Sample ratio not tested yet: ${f.cause === 'empty-period' ? 'a period has no units yet' : 'fewer than 5 expected units in some arm'}.`;
    case 'mismatch': {
      const split = f.periods
        .map((p) => `[${p.observed.join(', ')}] for weights [${p.expectedWeights.join(', ')}]`)
        .join('; ');
      return `sample-ratio mismatch: observed ${split}, χ² = ${fmtNum(f.chi2)} on ${f.df} df, p = ${fmtP(f.pValue)} < ${SRM_ALPHA}`;
    }
    case 'consistent':
      return `Sample ratio consistent with the intended split (χ² = ${fmtNum(f.chi2)} on ${f.df} df, p = ${fmtP(f.pValue)}).`;
  }
}

/** The first of the gate's reasons; `srmReason` is the sample-ratio verdict's, which an invalid decision quotes. */
export function decisionReason(decision: Decision, srmReason: string | undefined): string {
  switch (decision) {
    case 'invalid':
      return `Data invalid: ${srmReason}. The rollout is paused until assignment or logging is fixed.`;
    case 'fail':
      return 'Fail: roll back.';
    case 'waiting':
      return 'Waiting for data: too few observations to judge (never counted as a failure).';
    case 'pass':
      return 'Pass: every primary metric reached its required improvement and every guardrail holds.';
    case 'inconclusive':
      return 'Inconclusive: keep collecting data.';
  }
}

/* ── shared phrases and numbers ── */

function waitingReason(name: string, f: WaitingFinding): string {
  switch (f.code) {
    case 'nothing-recorded':
      return `${name}: waiting for data: nothing recorded yet.`;
    case 'too-few-samples':
      return `${name}: waiting for data: ${sampleText(f.sample)}; ${f.minSamples} per arm needed.`;
    case 'skewed':
      return (
        `${name}: waiting: ${name} is strongly skewed (s = ${fmtSkewness(f.skewness)}); needs n ≥ ` +
        `${f.floor.toLocaleString('en-US')} per arm before its mean can be trusted (${sampleText(f.sample)}).`
      );
  }
}

/** Two significant digits: the estimate is rough, and the floor grows with its square. */
function fmtSkewness(s: number): string {
  return Number(s.toPrecision(2)).toLocaleString('en-US');
}

function relativeUndefined(cause: RelativeUndefined): string {
  switch (cause) {
    case 'too-few-pairs':
      return 'fewer than 2 paired observations';
    case 'zero-champion-mean':
      return 'the champion mean is 0, so a relative change is undefined';
    case 'no-usable-period':
      return 'no period has 2 or more observations in both arms';
  }
}

function sampleText(s: SampleSize): string {
  return s.kind === 'paired'
    ? `n = ${s.pairs} paired requests`
    : `n = ${s.challenger} challenger / ${s.champion} champion`;
}

function describeChange(improvement: number): string {
  if (improvement === 0) return 'no different from the champion';
  return `${pct(Math.abs(improvement))} ${improvement > 0 ? 'better' : 'worse'} than the champion`;
}

/** The confidence level of the intervals, e.g. 95%. */
function level(alpha: number): string {
  return pct(1 - alpha, 0);
}

export function pct(v: number, digits = 2): string {
  return `${trimNumber(v * 100, digits)}%`;
}

export function signedPct(v: number): string {
  return `${v > 0 ? '+' : ''}${pct(v)}`;
}

function trimNumber(v: number, digits = 2): string {
  return String(Number(v.toFixed(digits)));
}

/** Four significant digits, or scientific notation far from 1. */
export function fmtNum(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e6 || a < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

/** Two significant digits, or scientific notation below 1e-4. */
export function fmtP(p: number): string {
  if (p === 0) return '0';
  return p < 1e-4 ? p.toExponential(1) : String(Number(p.toPrecision(2)));
}
