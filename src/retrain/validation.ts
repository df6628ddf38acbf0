import { createHash } from 'node:crypto';

/** One model's figures on the holdout, as the validation command reports them. */
export interface HoldoutFigures {
  mae: number;
  n: number;
  accuracy?: number;
}

export interface ValidationOutcome {
  passed: boolean;
  reason: string;
  candidate: HoldoutFigures;
  champion: HoldoutFigures;
  /** (champion − candidate) / champion on MAE: positive = the candidate is better. */
  improvement: number;
  /**
   * SHA-256 over the holdout data's digest, the digest of both models' forecasts of every holdout row (when
   * the validation command reports one), both artifacts' digests and both results: what was compared.
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

/** What a candidate must reach: the configuration's `validate` floors. */
export interface ValidationFloor {
  /** Relative MAE improvement over the champion, 0..1. */
  minImprovement: number;
  /** Applies when the command reports an accuracy. */
  accuracyFloor: number;
}

/** The report among the command's printed lines (its last one), or null when it printed none usable. */
export function validationReportOf(events: Array<Record<string, unknown>>): ValidationReport | null {
  const last = events.at(-1) as Partial<ValidationReport> | undefined;
  if (!last?.candidate || !last.champion || typeof last.candidate.mae !== 'number') return null;
  return last as ValidationReport;
}

/**
 * Whether the candidate beats the champion by the floor, with the reason a person reads and the hash of
 * exactly what was compared (so the same comparison always gives the same hash).
 */
export function judgeCandidate(
  report: ValidationReport,
  floor: ValidationFloor,
  digests: { candidate: string; champion: string },
): ValidationOutcome {
  const { candidate, champion } = report;
  const improvement = (champion.mae - candidate.mae) / champion.mae;
  const reasons: string[] = [];
  if (!(improvement >= floor.minImprovement))
    reasons.push(
      `MAE ${candidate.mae.toFixed(3)} vs champion ${champion.mae.toFixed(3)}: ${(improvement * 100).toFixed(1)}% better, needs ≥ ${(floor.minImprovement * 100).toFixed(1)}%`,
    );
  if (typeof candidate.accuracy === 'number' && candidate.accuracy < floor.accuracyFloor)
    reasons.push(
      `accuracy ${(candidate.accuracy * 100).toFixed(1)}% below the floor ${(floor.accuracyFloor * 100).toFixed(1)}%`,
    );
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
    passed: reasons.length === 0,
    reason: reasons.length
      ? `below the floor: ${reasons.join('; ')}`
      : `MAE ${candidate.mae.toFixed(3)} vs champion ${champion.mae.toFixed(3)} on the holdout: ${(improvement * 100).toFixed(1)}% better`,
    candidate,
    champion,
    improvement,
    validationHash,
  };
}
