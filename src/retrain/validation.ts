import { createHash } from 'node:crypto';

/** One model's figures on the holdout, as the validation command reports them (mae, accuracy, f1, …). */
export type HoldoutFigures = Record<string, unknown> & { n?: number };

/**
 * One figure a candidate is judged on: it must beat the champion's by `minImprovement` (relative, in the
 * metric's direction; 0: not worse) and, with a `floor`, reach it (the worst value allowed: a minimum when
 * higher is better, a maximum when lower is). `required`: the command must report it; an optional rule
 * (the legacy accuracy floor) applies only when it does.
 */
export interface ValidationMetric {
  name: string;
  direction: 'lower' | 'higher';
  /** Absent: the figure is not compared with the champion's (a floor alone). */
  minImprovement?: number | undefined;
  floor?: number | undefined;
  required: boolean;
}

/** How one figure fared. */
export interface ValidationCheck {
  metric: string;
  direction: 'lower' | 'higher';
  candidate: number | null;
  champion: number | null;
  /** Relative, positive = the candidate is better; null when a figure is missing. */
  improvement: number | null;
  minImprovement?: number | undefined;
  floor?: number | undefined;
  passed: boolean;
  reason: string;
}

export interface ValidationOutcome {
  passed: boolean;
  /** Every figure that missed (all of them, not the first), or the figures that passed. */
  reason: string;
  candidate: HoldoutFigures;
  champion: HoldoutFigures;
  /** The first rule's relative improvement (positive = better): the headline figure of job views. */
  improvement: number;
  checks: ValidationCheck[];
  /**
   * SHA-256 over the holdout data's digest, the digest of both models' forecasts of every holdout row (when
   * the validation command reports one), both artifacts' digests and both models' whole reports (every
   * figure judged, and the rest): what was compared.
   */
  validationHash: string;
}

/** The validation command's last JSON line, when it carries both models' figures. */
export interface ValidationReport {
  candidate: HoldoutFigures;
  champion: HoldoutFigures;
  holdoutSha256?: string;
  forecastsSha256?: string;
}

const isFigures = (x: unknown): x is HoldoutFigures =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/** The report among the command's printed lines (its last one), or null when it printed none usable. */
export function validationReportOf(events: Array<Record<string, unknown>>): ValidationReport | null {
  const last = events.at(-1);
  if (!isFigures(last?.candidate) || !isFigures(last.champion)) return null;
  return last as unknown as ValidationReport;
}

/** The validation rules before lists of metrics: MAE by `minImprovement`, accuracy (when reported) by its floor. */
export function legacyValidationMetrics(v: {
  minImprovement: number;
  accuracyFloor: number;
}): ValidationMetric[] {
  return [
    { name: 'mae', direction: 'lower', minImprovement: v.minImprovement, required: true },
    { name: 'accuracy', direction: 'higher', floor: v.accuracyFloor, required: false },
  ];
}

const LABELS: Record<string, string> = { mae: 'MAE', mape: 'MAPE', rmse: 'RMSE', f1: 'F1' };
/** Figures that are shares, shown as percentages. */
const SHARES = new Set(['accuracy', 'precision', 'recall', 'f1', 'coverage']);
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/**
 * Whether the candidate beats the champion on every rule, with the reason a person reads (every figure that
 * missed) and the hash of exactly what was compared (so the same comparison always gives the same hash).
 */
export function judgeCandidate(
  report: ValidationReport,
  rules: readonly ValidationMetric[],
  digests: { candidate: string; champion: string },
): ValidationOutcome {
  const { candidate, champion } = report;
  const checks = rules.flatMap((rule) => {
    const check = judgeMetric(rule, candidate[rule.name], champion[rule.name]);
    return check ? [check] : [];
  });
  const missed = checks.filter((c) => !c.passed);
  const validationHash = createHash('sha256')
    .update(
      JSON.stringify([
        report.holdoutSha256 ?? null,
        report.forecastsSha256 ?? null,
        digests.candidate,
        digests.champion,
        candidate,
        champion,
      ]),
    )
    .digest('hex');
  return {
    passed: missed.length === 0 && checks.length > 0,
    reason:
      checks.length === 0
        ? 'no figure to judge: the validation command reported none of the configured metrics'
        : missed.length
          ? `below the floor: ${missed.map((c) => c.reason).join('; ')}`
          : checks.map((c) => c.reason).join('; '),
    candidate,
    champion,
    improvement: checks[0]?.improvement ?? Number.NaN,
    checks,
    validationHash,
  };
}

function judgeMetric(rule: ValidationMetric, cand: unknown, champ: unknown): ValidationCheck | null {
  const label = LABELS[rule.name] ?? rule.name;
  const show = (x: number): string => (SHARES.has(rule.name) ? pct(x) : x.toFixed(3));
  const base = {
    metric: rule.name,
    direction: rule.direction,
    minImprovement: rule.minImprovement,
    floor: rule.floor,
  };
  const candidate = typeof cand === 'number' ? cand : null;
  const champion = typeof champ === 'number' ? champ : null;
  if (candidate === null && !rule.required) return null;
  const compares = rule.minImprovement !== undefined;
  const missing =
    candidate === null || !Number.isFinite(candidate)
      ? { who: 'the candidate', value: cand }
      : compares && (champion === null || !Number.isFinite(champion))
        ? { who: 'the champion', value: champ }
        : null;
  if (missing || candidate === null)
    return {
      ...base,
      candidate,
      champion,
      improvement: null,
      passed: false,
      reason: `${label}: ${missing?.who ?? 'the candidate'} has no figure (${JSON.stringify(missing?.value ?? null)})`,
    };
  const sign = rule.direction === 'lower' ? -1 : 1;
  const improvement =
    champion === null
      ? 0
      : champion !== 0
        ? (sign * (candidate - champion)) / Math.abs(champion)
        : candidate === champion
          ? 0
          : sign * (candidate - champion) > 0
            ? Infinity
            : -Infinity;
  const reasons: string[] = [];
  const versus = `${label} ${show(candidate)} vs champion ${champion === null ? '–' : show(champion)}`;
  const change = Number.isFinite(improvement)
    ? `${pct(Math.abs(improvement))} ${improvement >= 0 ? 'better' : 'worse'}`
    : `${improvement > 0 ? 'better' : 'worse'} than the champion's 0`;
  if (rule.minImprovement !== undefined && !(improvement >= rule.minImprovement))
    reasons.push(
      `${versus}: ${change}, needs ${rule.minImprovement === 0 ? 'not worse' : `≥ ${pct(rule.minImprovement)}`}`,
    );
  if (rule.floor !== undefined && !(sign * (candidate - rule.floor) >= 0))
    reasons.push(
      `${label} ${show(candidate)} ${rule.direction === 'higher' ? 'below the floor' : 'above the ceiling'} ${show(rule.floor)}`,
    );
  const passedReason =
    rule.minImprovement !== undefined
      ? `${versus} on the holdout: ${change}`
      : `${label} ${show(candidate)} within the floor ${show(rule.floor!)}`;
  return {
    ...base,
    candidate,
    champion,
    improvement,
    passed: reasons.length === 0,
    reason: reasons.length ? reasons.join('; ') : passedReason,
  };
}
