/**
 * Builds guardrail verdicts in two steps. First every guardrail records its figures and checks; a tested
 * check's status then waits for the Holm adjustment across all guardrails (settleGuardrails), after which
 * each verdict is built whole — no provisional fields to strip, nothing cast.
 */
import { holm } from '../multiple-testing.js';
import type {
  CheckFinding,
  GuardrailSubject,
  SampleSize,
  SkewedFinding,
  TestedFigures,
  TestedOutcome,
  WaitingFinding,
} from './findings.js';
import { checkReason, guardrailReason, guardrailWaitingReason } from './format.js';
import type {
  ArmFigures,
  GuardrailCheck,
  GuardrailCheckKind,
  GuardrailPolicy,
  GuardrailVerdict,
  ShapeFigures,
  VerdictStatus,
} from './types.js';

/** A check tested with a confidence sequence: `pValue` is its breach test, before the Holm adjustment. */
interface TestedCheck {
  tested: true;
  figures: TestedFigures;
  pValue: number;
}

/** A check whose status is known when it is made: a descriptive comparison, or one that cannot be computed. */
export interface SettledCheck {
  tested: false;
  kind: GuardrailCheckKind;
  limit: number;
  status: GuardrailCheck['status'];
  estimate: number;
  finding: CheckFinding;
}

export class GuardrailBuilder {
  private readonly subject: GuardrailSubject;
  private analysis: GuardrailVerdict['analysis'];
  private champion: ArmFigures = { n: 0, value: 0 };
  private challenger: ArmFigures = { n: 0, value: 0 };
  /** Set while the guardrail is not judged: no evidence yet, or too few observations per arm. */
  private waiting: WaitingFinding | undefined = { code: 'nothing-recorded' };
  private readonly checks: Array<TestedCheck | SettledCheck> = [];
  private shape: ShapeFigures | undefined;
  /** Set when some of the checks wait for the skewness floor: the guardrail waits unless another fails. */
  private held: SkewedFinding | undefined;

  constructor(private readonly policy: GuardrailPolicy) {
    this.subject = { metric: policy.metric, quantile: policy.quantile };
    this.analysis = policy.quantile !== undefined ? 'quantile' : 'independent';
  }

  /** Records what the arms show; false (the guardrail waits) while an arm has fewer than minSamples. */
  observe(
    o: {
      analysis: GuardrailVerdict['analysis'];
      champion: ArmFigures;
      challenger: ArmFigures;
      sample: SampleSize;
    },
    minSamples: number,
  ): boolean {
    this.analysis = o.analysis;
    this.champion = o.champion;
    this.challenger = o.challenger;
    if (Math.min(o.champion.n, o.challenger.n) < minSamples) {
      this.waiting = { code: 'too-few-samples', sample: o.sample, minSamples };
      return false;
    }
    this.waiting = undefined;
    return true;
  }

  recordShape(shape: ShapeFigures | undefined): void {
    this.shape = shape;
  }

  holdForShape(finding: SkewedFinding): void {
    this.held = finding;
  }

  addTested(figures: TestedFigures, pValue: number): void {
    this.checks.push({ tested: true, figures, pValue });
  }

  addSettled(check: Omit<SettledCheck, 'tested'>): void {
    this.checks.push({ tested: false, ...check });
  }

  /** The breach tests' p-values, in the order build() takes their Holm-adjusted values. */
  pValues(): number[] {
    return this.checks.flatMap((c) => (c.tested ? [c.pValue] : []));
  }

  build(adjusted: readonly number[], alpha: number): GuardrailVerdict {
    if (this.waiting) return this.verdict('waiting', [], guardrailWaitingReason(this.subject, this.waiting));
    let next = 0;
    const checks = this.checks.map((c) =>
      c.tested ? this.settleTested(c, adjusted[next++]!, alpha) : this.settled(c),
    );
    const statuses = checks.map((c) => c.status);
    if (this.held && !statuses.includes('fail')) {
      return this.verdict('waiting', checks, guardrailWaitingReason(this.subject, this.held));
    }
    const status: VerdictStatus = statuses.includes('fail')
      ? 'fail'
      : statuses.every((s) => s === 'pass')
        ? 'pass'
        : 'inconclusive';
    // Lead with the checks that decided the status; a pass lists them all.
    const deciding = checks.filter((c) => c.status === status);
    const reason = guardrailReason((deciding.length > 0 ? deciding : checks).map((c) => c.reason));
    return this.verdict(status, checks, reason);
  }

  private settleTested(c: TestedCheck, adjustedPValue: number, alpha: number): GuardrailCheck {
    const { kind, limit, estimate, interval } = c.figures;
    const promotion = isPromotionLimit(kind);
    // A promotion limit passes once the interval lies below it; a rollback limit holds unless breached.
    const status =
      adjustedPValue < alpha ? 'fail' : promotion && !(interval[1] < limit) ? 'inconclusive' : 'pass';
    const outcome: TestedOutcome =
      status === 'fail'
        ? { code: 'breach', adjustedPValue }
        : status === 'inconclusive'
          ? { code: 'open' }
          : promotion
            ? { code: 'within' }
            : { code: 'holds', pValue: c.pValue };
    return {
      kind,
      limit,
      scale: scaleOf(kind),
      status,
      estimate,
      interval,
      pValue: c.pValue,
      adjustedPValue,
      reason: checkReason(this.subject, { ...c.figures, outcome }),
    };
  }

  private settled(c: SettledCheck): GuardrailCheck {
    return {
      kind: c.kind,
      limit: c.limit,
      scale: scaleOf(c.kind),
      status: c.status,
      estimate: c.estimate,
      interval: null,
      pValue: null,
      adjustedPValue: null,
      reason: checkReason(this.subject, c.finding),
    };
  }

  private verdict(status: VerdictStatus, checks: GuardrailCheck[], reason: string): GuardrailVerdict {
    // Key order is part of the stored JSON.
    return {
      metric: this.policy.metric,
      status,
      analysis: this.analysis,
      ...(this.policy.quantile !== undefined ? { quantile: this.policy.quantile } : {}),
      descriptive: this.policy.quantile !== undefined,
      champion: this.champion,
      challenger: this.challenger,
      ...(this.shape ? { shape: this.shape } : {}),
      checks,
      reason,
    };
  }
}

/**
 * Holm across the guardrail checks that may trigger a rollback: any single breach rolls back, so the
 * family-wise rate of false rollbacks from guardrails must stay at alpha however many there are.
 */
export function settleGuardrails(builders: readonly GuardrailBuilder[], alpha: number): GuardrailVerdict[] {
  const own = builders.map((b) => b.pValues());
  const adjusted = holm(own.flat());
  let next = 0;
  return builders.map((b, i) => {
    const mine = adjusted.slice(next, next + own[i]!.length);
    next += mine.length;
    return b.build(mine, alpha);
  });
}

/** Limits the challenger must be shown to meet to be promoted, as opposed to limits that roll it back. */
export function isPromotionLimit(kind: GuardrailCheckKind): boolean {
  return kind === 'max' || kind === 'maxRelativeIncrease';
}

function scaleOf(kind: GuardrailCheckKind): GuardrailCheck['scale'] {
  return kind === 'max' || kind === 'rollbackAbove' ? 'absolute' : 'relative';
}
