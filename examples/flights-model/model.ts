import { createHash } from 'node:crypto';
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { z } from 'zod';
import { linearModelFields } from '../training-output.js';
import { numericProfile } from '../feature-profile.js';
import { readFlights, type FlightBatch } from './data.js';
import {
  FEATURE_SETS,
  featureNames,
  featureVector,
  isDelayed,
  learnAirportRates,
  RECENT_WINDOW_MS,
  RecentDelays,
  type AirportRates,
  type FeatureSet,
} from './features.js';
import { classificationMetrics, classificationMetricsSchema } from './metrics.js';

export const flightsModelArtifactSchema = z.object({
  kind: z.literal('arena.example.flight-delay'),
  formatVersion: z.literal(1),
  model: z.string().min(1),
  version: z.string().min(1),
  /** P(departure delay > 15 min) = σ(intercept + Σ coefficient · (x − mean) / scale). */
  target: z.literal('delayed_over_15_min'),
  featureSet: z.enum(FEATURE_SETS),
  ...linearModelFields,
  /** The challenger's airport encoding, learned from the training window only. */
  airportRates: z
    .object({
      overall: z.number(),
      origin: z.record(z.string(), z.number()),
      destination: z.record(z.string(), z.number()),
    })
    .optional(),
  trainWindow: z.object({ from: z.string(), to: z.string(), rows: z.number().int().positive() }),
  /** SHA-256 of the training rows as `time,delay,distance,origin,destination` lines, in file order. */
  trainingDataSha256: z.string().regex(/^[0-9a-f]{64}$/),
  holdout: classificationMetricsSchema,
  /**
   * The training window's inputs, the reference drift checks compare served traffic with: the distance
   * (deciles and a sample) and the origin and destination airports (counts per airport).
   */
  featureProfile: z.record(
    z.string(),
    z.union([
      z.object({ deciles: z.array(z.number()), sample: z.array(z.number()) }),
      z.object({ categories: z.record(z.string(), z.number().int().nonnegative()) }),
    ]),
  ),
  iterations: z.number().int().positive(),
  createdAt: z.string(),
});
export type FlightsModelArtifact = z.infer<typeof flightsModelArtifactSchema>;

export interface TrainOptions {
  model: string;
  version: string;
  featureSet: FeatureSet;
  /** Epoch ms (local clock, data.ts), [from, to). */
  trainFrom: number;
  trainTo: number;
  holdoutFrom: number;
  holdoutTo: number;
  ridge?: number;
  /** Keep every k-th training flight (1: all); the holdout is always whole. */
  sampleEvery?: number;
  path?: string;
  onProgress?: (step: 'airports' | 'features' | 'fit' | 'evaluate', detail: Record<string, number>) => void;
}

export class TrainingError extends Error {
  override name = 'TrainingError';
}

const MAX_ITERATIONS = 50;
const iso = (t: number): string => new Date(t).toISOString().slice(0, 19);

/**
 * Fits the logistic regression walking forward in time: airport rates come from the training window only,
 * the recent-delay feature from flights whose labels were known before each departure (features.ts), and
 * the holdout lies after the training window. Newton's method on the L2-penalised log-likelihood (the
 * intercept unpenalised) on standardised inputs; deterministic, so the same options give the same bytes.
 */
export async function trainFlightsModel(opts: TrainOptions): Promise<FlightsModelArtifact> {
  if (!(
    opts.trainFrom < opts.trainTo &&
    opts.trainTo <= opts.holdoutFrom &&
    opts.holdoutFrom < opts.holdoutTo
  ))
    throw new TrainingError('windows must be ordered: train-from < train-to ≤ holdout-from < holdout-to');
  const ridge = opts.ridge ?? 1;
  const every = opts.sampleEvery ?? 1;
  const source = opts.path !== undefined ? { path: opts.path } : {};
  let rates: AirportRates | undefined;
  if (opts.featureSet !== 'schedule') {
    rates = learnAirportRates(
      await collect(readFlights({ ...source, from: opts.trainFrom, to: opts.trainTo })),
    );
    opts.onProgress?.('airports', { origins: Object.keys(rates.origin).length });
  }
  const names = featureNames(opts.featureSet);
  const p = names.length;
  const train: number[] = [];
  const trainY: number[] = [];
  const holdout: Array<{ x: number[]; y: number; origin: string }> = [];
  const hash = createHash('sha256');
  const recent = new RecentDelays();
  const distances: number[] = [];
  const airports = { origin: new Map<string, number>(), destination: new Map<string, number>() };
  let k = 0;
  // Start early enough that the first training flights' recent-delay windows are full.
  for await (const b of readFlights({
    ...source,
    from: opts.trainFrom - RECENT_WINDOW_MS,
    to: opts.holdoutTo,
  })) {
    for (let i = 0; i < b.time.length; i++) {
      const t = b.time[i]!;
      const y = isDelayed(b.delay[i]!) ? 1 : 0;
      if (t >= opts.trainFrom && t < opts.trainTo) {
        hash.update(`${t},${b.delay[i]},${b.distance[i]},${b.origin[i]},${b.destination[i]}\n`);
        distances.push(b.distance[i]!);
        for (const side of ['origin', 'destination'] as const)
          airports[side].set(b[side][i]!, (airports[side].get(b[side][i]!) ?? 0) + 1);
        if (k++ % every === 0) {
          train.push(...featureVector(opts.featureSet, b, i, rates, recent));
          trainY.push(y);
        }
      } else if (t >= opts.holdoutFrom && t < opts.holdoutTo)
        holdout.push({ x: featureVector(opts.featureSet, b, i, rates, recent), y, origin: b.origin[i]! });
      recent.observe(b.origin[i]!, t, y === 1);
    }
    opts.onProgress?.('features', { train: trainY.length, holdout: holdout.length });
  }
  const n = trainY.length;
  if (n < 10 * p) throw new TrainingError(`only ${n} training flights for ${p} features`);
  if (holdout.length === 0) throw new TrainingError('no flights in the holdout window');

  const { means, scales } = standardisation(train, n, p);
  const { beta, iterations } = fitLogistic(train, trainY, means, scales, ridge);
  opts.onProgress?.('fit', { iterations, rows: n });
  const artifact: Omit<FlightsModelArtifact, 'holdout'> = {
    kind: 'arena.example.flight-delay',
    formatVersion: 1,
    model: opts.model,
    version: opts.version,
    target: 'delayed_over_15_min',
    featureSet: opts.featureSet,
    features: names,
    means,
    scales,
    intercept: beta[0]!,
    coefficients: beta.slice(1),
    ridge,
    ...(rates ? { airportRates: rates } : {}),
    trainWindow: { from: iso(opts.trainFrom), to: iso(opts.trainTo), rows: k },
    trainingDataSha256: hash.digest('hex'),
    featureProfile: {
      distance: numericProfile(distances),
      ...Object.fromEntries(
        (['origin', 'destination'] as const).map((side) => [
          side,
          { categories: Object.fromEntries([...airports[side]].sort(([a], [b]) => a.localeCompare(b))) },
        ]),
      ),
    },
    iterations,
    createdAt: new Date(opts.trainTo).toISOString(),
  };
  const holdoutMetrics = classificationMetrics(
    holdout.map((h) => ({ p: probability(artifact, h.x), y: h.y, segment: h.origin })),
    { from: iso(opts.holdoutFrom), to: iso(opts.holdoutTo) },
  );
  opts.onProgress?.('evaluate', { flights: holdout.length });
  return { ...artifact, holdout: holdoutMetrics };
}

/** P(delayed) for one feature vector. */
export function probability(
  m: Pick<FlightsModelArtifact, 'means' | 'scales' | 'intercept' | 'coefficients'>,
  x: readonly number[],
): number {
  let z = m.intercept;
  for (let j = 0; j < x.length; j++) z += (m.coefficients[j]! * (x[j]! - m.means[j]!)) / m.scales[j]!;
  return 1 / (1 + Math.exp(-z));
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function standardisation(x: number[], n: number, p: number): { means: number[]; scales: number[] } {
  const means = new Array<number>(p).fill(0);
  const squares = new Array<number>(p).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) means[j] = means[j]! + x[i * p + j]! / n;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < p; j++) squares[j] = squares[j]! + (x[i * p + j]! - means[j]!) ** 2 / n;
  // A constant input (a weekday absent from a short window) gets scale 1: its coefficient stays 0.
  return { means, scales: squares.map((s) => (s > 1e-12 ? Math.sqrt(s) : 1)) };
}

/**
 * Newton's method for the penalised log-likelihood: each step solves (XᵀWX + λI) Δ = Xᵀ(y − p) − λβ by
 * Cholesky (ml-matrix), the intercept unpenalised. Stops when no coefficient moves by 1e-9.
 */
function fitLogistic(
  x: number[],
  y: number[],
  means: number[],
  scales: number[],
  ridge: number,
): { beta: number[]; iterations: number } {
  const n = y.length;
  const p = means.length;
  const d = p + 1;
  const beta = new Array<number>(d).fill(0);
  const row = new Float64Array(d);
  for (let it = 1; it <= MAX_ITERATIONS; it++) {
    const hd = Array.from({ length: d }, () => new Float64Array(d));
    const g = new Array<number>(d).fill(0);
    for (let i = 0; i < n; i++) {
      row[0] = 1;
      for (let j = 0; j < p; j++) row[j + 1] = (x[i * p + j]! - means[j]!) / scales[j]!;
      let z = 0;
      for (let j = 0; j < d; j++) z += beta[j]! * row[j]!;
      const pi = 1 / (1 + Math.exp(-z));
      const w = pi * (1 - pi);
      const r = y[i]! - pi;
      for (let a = 0; a < d; a++) {
        g[a] = g[a]! + row[a]! * r;
        const ra = row[a]! * w;
        const ha = hd[a]!;
        for (let b = 0; b <= a; b++) ha[b] = ha[b]! + ra * row[b]!;
      }
    }
    for (let a = 0; a < d; a++) for (let b = 0; b < a; b++) hd[b]![a] = hd[a]![b]!;
    for (let a = 1; a < d; a++) {
      hd[a]![a] = hd[a]![a]! + ridge;
      g[a] = g[a]! - ridge * beta[a]!;
    }
    const chol = new CholeskyDecomposition(new Matrix(hd.map((r) => Array.from(r))));
    if (!chol.isPositiveDefinite())
      throw new TrainingError('the training data do not determine the model (singular system)');
    const step = chol.solve(Matrix.columnVector(g)).to1DArray();
    let moved = 0;
    for (let j = 0; j < d; j++) {
      beta[j] = beta[j]! + step[j]!;
      moved = Math.max(moved, Math.abs(step[j]!));
    }
    if (moved < 1e-9) return { beta, iterations: it };
  }
  throw new TrainingError(`Newton's method did not converge in ${MAX_ITERATIONS} iterations`);
}

export type { FlightBatch };
