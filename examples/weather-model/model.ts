import { mean, quantileSorted, rootMeanSquare, standardDeviation } from 'simple-statistics';
import { numericProfile as profile } from '../feature-profile.js';
import { z } from 'zod';
import { linearModelFields } from '../training-output.js';
import { isCalendarDate, sha256OfDays, sliceDays, type WeatherDay } from './data.js';
import {
  FEATURE_SETS,
  featureVector,
  MONITORED_FEATURES,
  monitoredFeatures,
  type FeatureSet,
} from './features.js';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const metricsSchema = z.object({
  from: isoDate,
  to: isoDate,
  n: z.number().int().nonnegative(),
  mae: z.number(),
  rmse: z.number(),
  mape: z.number(),
  bias: z.number(),
  /**
   * Share of days whose maximum fell inside the forecast's interval (the artifact's `interval`); absent for
   * artifacts trained before intervals were kept.
   */
  coverage: z.number().optional(),
});
export type ForecastMetrics = z.infer<typeof metricsSchema>;

export const weatherModelArtifactSchema = z.object({
  kind: z.literal('arena.example.weather-forecast'),
  formatVersion: z.literal(1),
  model: z.string().min(1),
  version: z.string().min(1),
  target: z.literal('temp_max'),
  featureSet: z.enum(FEATURE_SETS),
  ...linearModelFields,
  trainWindow: z.object({ from: isoDate, to: isoDate, rows: z.number().int().positive() }),
  trainingDataSha256: z.string().regex(/^[0-9a-f]{64}$/),
  holdout: metricsSchema,
  /**
   * The forecast's interval: the training residuals' (actual − forecast) quantiles at (1 − level)/2 and
   * (1 + level)/2, added to a forecast. Absent in artifacts trained before it was kept.
   */
  interval: z.object({ level: z.number(), lower: z.number(), upper: z.number() }).optional(),
  /** The training window's observed inputs and forecasts: the reference that drift checks compare with. */
  featureProfile: z.record(
    z.string(),
    z.object({ deciles: z.array(z.number()), sample: z.array(z.number()) }),
  ),
  createdAt: z.string(),
});
export type WeatherModelArtifact = z.infer<typeof weatherModelArtifactSchema>;

export interface TrainOptions {
  model: string;
  version: string;
  featureSet: FeatureSet;
  trainFrom: string;
  trainTo: string;
  holdoutFrom: string;
  holdoutTo: string;
  /** L2 penalty on the standardised coefficients (not on the intercept). */
  ridge?: number;
  /** Defaults to the end of the training window, so the same inputs give the same bytes. */
  createdAt?: string;
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

const MIN_TRAINING_ROWS = 60;

/**
 * Solves the symmetric positive-definite system A x = b by Cholesky decomposition. Written by hand because
 * the system is tiny (≤ 10 unknowns) and no well-kept dependency of this project does linear algebra;
 * a matrix library would be a large dependency for twenty lines.
 */
function solveSpd(a: number[][], b: number[]): number[] {
  const n = b.length;
  const l = a.map(() => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let sum = a[i]![j]!;
      for (let k = 0; k < j; k++) sum -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (sum <= 0)
          throw new TrainingError('the training data do not determine the model (singular system)');
        l[i]![i] = Math.sqrt(sum);
      } else l[i]![j] = sum / l[j]![j]!;
    }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i]![k]! * y[k]!;
    y[i] = sum / l[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k]![i]! * x[k]!;
    x[i] = sum / l[i]![i]!;
  }
  return x;
}

/** The forecast of day `index`'s maximum temperature from what was known the evening before. */
export function forecast(artifact: WeatherModelArtifact, days: WeatherDay[], index: number): number | null {
  const x = featureVector(artifact.featureSet, days, index);
  if (!x) return null;
  let y = artifact.intercept;
  artifact.features.forEach((name, k) => {
    y += (artifact.coefficients[k]! * (x[name]! - artifact.means[k]!)) / artifact.scales[k]!;
  });
  return y;
}

/** Walk-forward metrics over [from, to]: each day's forecast uses only earlier days. */
export function evaluate(
  artifact: WeatherModelArtifact,
  days: WeatherDay[],
  from: string,
  to: string,
): ForecastMetrics {
  const errors: number[] = [];
  const percentErrors: number[] = [];
  let covered = 0;
  const interval = artifact.interval;
  days.forEach((d, i) => {
    if (d.date < from || d.date > to) return;
    const f = forecast(artifact, days, i);
    if (f === null) return;
    const e = f - d.tempMax;
    errors.push(e);
    if (interval && d.tempMax >= f + interval.lower && d.tempMax <= f + interval.upper) covered++;
    // Percentage errors explode near 0 °C; MAPE is reported over days whose maximum is at least 1 °C away.
    if (Math.abs(d.tempMax) >= 1) percentErrors.push(Math.abs(e / d.tempMax));
  });
  const n = errors.length;
  if (n === 0) return { from, to, n, mae: Number.NaN, rmse: Number.NaN, mape: Number.NaN, bias: Number.NaN };
  return {
    from,
    to,
    n,
    mae: mean(errors.map((e) => Math.abs(e))),
    rmse: rootMeanSquare(errors),
    mape: percentErrors.length ? mean(percentErrors) : Number.NaN,
    bias: mean(errors),
    ...(interval ? { coverage: covered / n } : {}),
  };
}

/** The central interval of the level's share of training residuals (actual − forecast). */
export function residualInterval(
  residuals: number[],
  level = INTERVAL_LEVEL,
): { level: number; lower: number; upper: number } {
  const sorted = [...residuals].sort((a, b) => a - b);
  return {
    level,
    lower: quantileSorted(sorted, (1 - level) / 2),
    upper: quantileSorted(sorted, (1 + level) / 2),
  };
}

/** An 80 % interval: wide enough to mean something on a year of days, narrow enough to be checked. */
const INTERVAL_LEVEL = 0.8;

/** Fits the model on the training window and measures it on the (later, disjoint) holdout window. */
export function trainWeatherModel(days: WeatherDay[], opts: TrainOptions): WeatherModelArtifact {
  if (!FEATURE_SETS.includes(opts.featureSet))
    throw new TrainingError(
      `featureSet=${JSON.stringify(opts.featureSet)}: use one of ${FEATURE_SETS.join(', ')}`,
    );
  for (const key of ['trainFrom', 'trainTo', 'holdoutFrom', 'holdoutTo'] as const)
    if (!isCalendarDate(opts[key]))
      throw new TrainingError(`${key}=${JSON.stringify(opts[key])}: must be a real date YYYY-MM-DD`);
  if (opts.trainFrom > opts.trainTo)
    throw new TrainingError(`training window ${opts.trainFrom}..${opts.trainTo} ends before it starts`);
  if (opts.holdoutFrom > opts.holdoutTo)
    throw new TrainingError(`holdout window ${opts.holdoutFrom}..${opts.holdoutTo} ends before it starts`);
  if (opts.holdoutFrom <= opts.trainTo && opts.holdoutTo >= opts.trainFrom)
    throw new TrainingError(
      `holdout ${opts.holdoutFrom}..${opts.holdoutTo} overlaps training ${opts.trainFrom}..${opts.trainTo}; a holdout must be unseen`,
    );
  const ridge = opts.ridge ?? 1;
  if (!Number.isFinite(ridge) || ridge < 0)
    throw new TrainingError(`ridge=${ridge}: must be a finite number ≥ 0`);
  const rows: Array<{ x: Record<string, number>; y: number; index: number }> = [];
  days.forEach((d, i) => {
    if (d.date < opts.trainFrom || d.date > opts.trainTo) return;
    const x = featureVector(opts.featureSet, days, i);
    if (x) rows.push({ x, y: d.tempMax, index: i });
  });
  if (rows.length < MIN_TRAINING_ROWS)
    throw new TrainingError(
      `training window ${opts.trainFrom}..${opts.trainTo} has ${rows.length} usable days; at least ${MIN_TRAINING_ROWS} are needed`,
    );
  const features = Object.keys(rows[0]!.x);
  const p = features.length;
  const columns = features.map((f) => rows.map((r) => r.x[f]!));
  const means = columns.map((c) => mean(c));
  // The population standard deviation (divide by n): a scale for standardising, not an estimate; a constant
  // column keeps scale 1.
  const scales = columns.map((c) => standardDeviation(c) || 1);
  const yMean = mean(rows.map((r) => r.y));
  // Centred and standardised, the intercept is the mean of y and drops out of the penalised system.
  const a = features.map(() => new Array<number>(p).fill(0));
  const b = new Array<number>(p).fill(0);
  for (const r of rows) {
    const z = features.map((f, k) => (r.x[f]! - means[k]!) / scales[k]!);
    for (let i = 0; i < p; i++) {
      b[i]! += z[i]! * (r.y - yMean);
      for (let j = 0; j < p; j++) a[i]![j]! += z[i]! * z[j]!;
    }
  }
  for (let i = 0; i < p; i++) a[i]![i]! += ridge;
  const coefficients = solveSpd(a, b);

  const trainDays = sliceDays(days, opts.trainFrom, opts.trainTo);
  const draft: WeatherModelArtifact = {
    kind: 'arena.example.weather-forecast',
    formatVersion: 1,
    model: opts.model,
    version: opts.version,
    target: 'temp_max',
    featureSet: opts.featureSet,
    features,
    means,
    scales,
    intercept: yMean,
    coefficients,
    ridge,
    trainWindow: { from: opts.trainFrom, to: opts.trainTo, rows: rows.length },
    trainingDataSha256: sha256OfDays(trainDays),
    holdout: { from: opts.holdoutFrom, to: opts.holdoutTo, n: 0, mae: 0, rmse: 0, mape: 0, bias: 0 },
    featureProfile: {},
    createdAt: opts.createdAt ?? `${opts.trainTo}T23:59:59.000Z`,
  };
  // The interval comes from the training window's own residuals, so the holdout's coverage is out of sample.
  draft.interval = residualInterval(rows.map((r) => r.y - forecast(draft, days, r.index)!));
  const holdout = evaluate(draft, days, opts.holdoutFrom, opts.holdoutTo);
  if (holdout.n === 0)
    throw new TrainingError(
      `holdout window ${opts.holdoutFrom}..${opts.holdoutTo} has no usable days in the data`,
    );
  const observed: Record<string, number[]> = Object.fromEntries(MONITORED_FEATURES.map((f) => [f, []]));
  const predictions: number[] = [];
  for (const r of rows) {
    const m = monitoredFeatures(days, r.index);
    if (m) for (const f of MONITORED_FEATURES) observed[f]!.push(m[f]!);
    predictions.push(forecast(draft, days, r.index)!);
  }
  return {
    ...draft,
    holdout,
    featureProfile: {
      ...Object.fromEntries(Object.entries(observed).map(([f, v]) => [f, profile(v)])),
      prediction: profile(predictions),
    },
  };
}
