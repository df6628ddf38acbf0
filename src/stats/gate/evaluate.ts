/**
 * The rollout gate: from the champion's and the challenger's figures and a policy, decide whether the
 * challenger may be promoted, must be rolled back, needs more data, or whether the data are invalid.
 *
 * The workflow calls this at every analysis interval, so every decision rests on always-valid confidence
 * sequences (sequential.ts) — looking every minute cannot inflate the error rates. Fixed-horizon figures
 * are reported beside them for people, never used to decide. docs/statistics.md explains the rules.
 */
import { StatsInputError, requireOpenUnit } from '../errors.js';
import { sequentialRho } from '../sequential.js';
import { decisionReason } from './format.js';
import { evaluateGuardrails } from './guardrail.js';
import { evaluatePrimary } from './primary.js';
import { checkSegments } from './segments.js';
import { evaluateSrm } from './srm-verdict.js';
import type {
  Action,
  Decision,
  GateInput,
  GatePolicy,
  GateResult,
  PrimaryMetricPolicy,
  VerdictStatus,
} from './types.js';

const ACTIONS: Readonly<Record<Decision, Action>> = {
  invalid: 'pause',
  fail: 'rollback',
  waiting: 'continue',
  pass: 'promote',
  inconclusive: 'continue',
};

/**
 * Decide. Order of precedence: a sample-ratio mismatch makes the data `invalid` (action pause) whatever the
 * metrics say; then any `fail` (action rollback); then any `waiting`; `pass` (action promote) needs every
 * primary metric and every guardrail to pass; otherwise `inconclusive` (action continue).
 */
export function evaluateGate(input: GateInput, policy: GatePolicy): GateResult {
  const primaries = guardPolicy(policy);
  const { analysis } = policy;
  const rho = sequentialRho(analysis.alpha, analysis.tuningN);

  // Each primary metric's degradation test stands alone at alpha (primaries are few and decided jointly);
  // the guardrails' rollback triggers are Holm-adjusted as one family (guardrail-builder.ts).
  const metrics = primaries.map((p) => evaluatePrimary(p, input.metrics[p.name], analysis, rho));
  const guardrails = evaluateGuardrails(policy.guardrails ?? [], input.metrics, analysis, rho);
  const srm = input.srm === undefined ? null : evaluateSrm(input.srm);
  const segments = policy.segmentCheck
    ? checkSegments(input.segments, policy.segmentCheck, analysis)
    : undefined;

  const all: ReadonlyArray<{ status: VerdictStatus; reason: string }> = [
    ...metrics,
    ...guardrails,
    ...(segments ? [segments] : []),
  ];
  const decision: Decision = srm?.mismatch
    ? 'invalid'
    : all.some((v) => v.status === 'fail')
      ? 'fail'
      : all.some((v) => v.status === 'waiting')
        ? 'waiting'
        : all.every((v) => v.status === 'pass')
          ? 'pass'
          : 'inconclusive';
  const reasons = [decisionReason(decision, srm?.reason)];
  const order: VerdictStatus[] = ['fail', 'waiting', 'inconclusive', 'pass'];
  for (const s of order) for (const v of all) if (v.status === s) reasons.push(v.reason);
  if (srm && !srm.mismatch) reasons.push(srm.reason);
  return {
    decision,
    action: ACTIONS[decision],
    metrics,
    guardrails,
    srm,
    reasons,
    alpha: analysis.alpha,
    ...(segments ? { segments } : {}),
  };
}

/**
 * Every policy a person writes is validated once, by the policy schema (src/policy/policy.ts). The gate is
 * also handed policies built in code — the analysis activity renames quantile guardrails and rewrites the
 * watch window's primary metrics; the bench and library users (src/stats/index.ts) build their own — so it
 * keeps the guards whose violation nothing downstream would catch and the types cannot express: an alpha
 * outside (0, 1) makes every interval NaN (and a metric still waiting for data never reaches the checks in
 * sequential.ts), and a gate without a primary metric would promote with nothing compared. (A guardrail
 * without a limit is refused where guardrails are evaluated, for the same reason.)
 */
function guardPolicy(policy: GatePolicy): readonly PrimaryMetricPolicy[] {
  requireOpenUnit('analysis.alpha', policy.analysis.alpha);
  const primaries = isList(policy.primaryMetric) ? policy.primaryMetric : [policy.primaryMetric];
  if (primaries.length === 0)
    throw new StatsInputError('primaryMetric', primaries, 'needs at least one metric');
  return primaries;
}

function isList(p: GatePolicy['primaryMetric']): p is readonly PrimaryMetricPolicy[] {
  return Array.isArray(p);
}
