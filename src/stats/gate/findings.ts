/**
 * What the gate found, as codes and figures: the contract between the modules that decide (primary.ts,
 * guardrail*.ts, srm-verdict.ts) and the one module that words it (format.ts). A finding carries every number
 * its sentence shows and nothing of the sentence itself.
 */
import type { Direction, Interval, SrmInput } from './types.js';

/** The observations a verdict rests on, as its sentence states them. */
export type SampleSize =
  { kind: 'paired'; pairs: number } | { kind: 'arms'; challenger: number; champion: number };

/** Why the relative change of the challenger against the champion has no estimate. */
export type RelativeUndefined = 'too-few-pairs' | 'zero-champion-mean' | 'no-usable-period';

/** Fewer observations per arm than the values' skewness calls for (skew-floor.ts). */
export interface SkewedFinding {
  code: 'skewed';
  skewness: number;
  floor: number;
  sample: SampleSize;
}

/** A metric not judged yet: no evidence at all, fewer observations per arm than minSamples, or than its skewness needs. */
export type WaitingFinding =
  | { code: 'nothing-recorded' }
  | { code: 'too-few-samples'; sample: SampleSize; minSamples: number }
  | SkewedFinding;

/** The primary metric's comparison, oriented so that a positive improvement is better. */
export interface PrimaryComparison {
  direction: Direction;
  alpha: number;
  improvement: number;
  /** Always-valid interval of the improvement. */
  interval: Interval;
  pValue: number;
  sample: SampleSize;
  minImprovement: number;
}

export type PrimaryFinding =
  | WaitingFinding
  | { code: 'relative-undefined'; cause: RelativeUndefined; sample: SampleSize }
  /** pass: the interval clears minImprovement; futile: it lies below it; short: it still straddles it. */
  | ({ code: 'pass' | 'futile' | 'short' } & PrimaryComparison)
  /** Demonstrably worse than rollbackRelativeDegradation (`limit`), with that test's p-value. */
  | ({ code: 'degraded'; limit: number; rollbackPValue: number } & PrimaryComparison);

/** The metric a guardrail is on, and its quantile when it compares one (`latency_ms p95`). */
export interface GuardrailSubject {
  metric: string;
  quantile?: number | undefined;
}

export type AbsoluteKind = 'max' | 'rollbackAbove';
export type RelativeKind = 'maxRelativeIncrease' | 'rollbackRelativeIncrease';

/** A check tested with a confidence sequence, before the Holm adjustment decides its outcome. */
export type TestedFigures =
  | {
      code: 'level';
      kind: AbsoluteKind;
      /** A rate: shown in percent with three decimals. */
      proportion: boolean;
      estimate: number;
      limit: number;
      interval: Interval;
      alpha: number;
      sample: SampleSize;
    }
  | {
      code: 'increase';
      kind: RelativeKind;
      estimate: number;
      limit: number;
      interval: Interval;
      alpha: number;
      sample: SampleSize;
    };

/** breach: the Holm-adjusted test shows the limit exceeded; within / holds: a promotion / rollback limit not exceeded; open: the interval still reaches a promotion limit. */
export type TestedOutcome =
  | { code: 'breach'; adjustedPValue: number }
  | { code: 'within' }
  | { code: 'holds'; pValue: number }
  | { code: 'open' };

export type CheckFinding =
  | (TestedFigures & { outcome: TestedOutcome })
  | { code: 'increase-undefined'; kind: RelativeKind; limit: number; cause: RelativeUndefined }
  /** Quantile guardrails: observed values compared with the limits directly, without a test. */
  | {
      code: 'quantile-level';
      kind: AbsoluteKind;
      challenger: number;
      limit: number;
      sample: SampleSize;
      breach: boolean;
    }
  | {
      code: 'quantile-increase';
      challenger: number;
      champion: number;
      increase: number;
      limit: number;
      sample: SampleSize;
      breach: boolean;
    }
  | { code: 'quantile-increase-undefined'; champion: number };

export type SrmFinding =
  | { code: 'untested'; cause: 'empty-period' | 'few-expected' }
  | {
      code: 'mismatch' | 'consistent';
      periods: readonly SrmInput[];
      chi2: number;
      df: number;
      pValue: number;
    };
