/**
 * The skewness-aware sample floor (docs/statistics.md, "Skewness-aware sample floor"): a comparison of means
 * is neither passed nor failed while an arm has fewer observations than its values' skewness calls for.
 */
import { KOHAVI_FACTOR, skewnessFloor } from '../shape.js';
import type { PreparedEvidence } from './evidence.js';
import type { SkewedFinding } from './findings.js';
import type { AnalysisPolicy, ShapeFigures } from './types.js';

export interface ShapeCheck {
  /** What the verdict records; undefined when the shape is unknown or the floor is off. */
  shape: ShapeFigures | undefined;
  /** Set while an arm is below the floor: the finding that makes the metric wait. */
  held: SkewedFinding | undefined;
}

export function checkShape(
  prep: PreparedEvidence,
  analysis: Pick<AnalysisPolicy, 'skewnessFactor'>,
): ShapeCheck {
  const factor = analysis.skewnessFactor ?? KOHAVI_FACTOR;
  if (prep.skewness === undefined || factor === 0) return { shape: undefined, held: undefined };
  const floor = skewnessFloor(prep.skewness, factor);
  const shape: ShapeFigures = { skewness: prep.skewness, floor };
  const below = Math.min(prep.nChampion, prep.nChallenger) < floor;
  return {
    shape,
    held: below ? { code: 'skewed', skewness: prep.skewness, floor, sample: prep.sample } : undefined,
  };
}
