import type { FlightsModelArtifact } from '../../examples/flights-model/model.js';
import { scoreFlights } from '../../examples/flights-model/scoring.js';
import type { ClassifierAnswer, Workload, WorkloadRequest } from '../simulate/traffic.js';

export interface FlightsReplay extends Workload {
  request(i: number): Omit<WorkloadRequest, 'actual' | 'predict'> & {
    actual: boolean;
    predict(version: string): ClassifierAnswer | null;
  };
  /** Flights in the window. */
  readonly flights: number;
  /** Each version's accuracy over the window's flights (or those leaving `origin`), from its real probabilities. */
  accuracy(version: string, origin?: string): number;
}

/**
 * Real flights replayed as live traffic: request i is one flight of the window (cycling through it), the
 * routed version answers with its real probability that the flight leaves more than 15 minutes late, and
 * whether it did arrives later as feedback. Both versions score every flight once, walking forward
 * (examples/flights-model/scoring.ts), and answers are served from those scores, stored as typed arrays so
 * a million flights cost a few megabytes.
 */
export async function flightsReplay(opts: {
  /** Version → the artifact that serves it. */
  artifacts: Record<string, FlightsModelArtifact>;
  /** Epoch ms on the data's local clock (examples/flights-model/data.ts), [from, to). */
  from: number;
  to: number;
  /** Only the flights leaving this airport (a regional deployment, or a shifted audience). */
  origin?: string;
  /** Give each request its origin airport as its segment (the per-segment check). */
  segmentByOrigin?: boolean;
  /**
   * Visit the window's flights in a fixed pseudo-random order rather than by departure, so every stretch of
   * the replay is a sample of the whole window: a watch that compares the new champion with its own past
   * (a self-baseline) then compares like with like, not May with late June. Scores do not change: both
   * versions scored the flights walking forward before the replay starts.
   */
  shuffle?: boolean;
  path?: string;
}): Promise<FlightsReplay> {
  const versions = Object.keys(opts.artifacts);
  const probabilities: number[][] = versions.map(() => []);
  const delayed: boolean[] = [];
  const origins: string[] = [];
  const destinations: string[] = [];
  const distances: number[] = [];
  for await (const batch of scoreFlights(
    versions.map((v) => opts.artifacts[v]!),
    { from: opts.from, to: opts.to, ...(opts.path !== undefined ? { path: opts.path } : {}) },
  ))
    for (const f of batch) {
      if (opts.origin !== undefined && f.origin !== opts.origin) continue;
      f.p.forEach((p, k) => probabilities[k]!.push(p));
      delayed.push(f.delayed);
      origins.push(f.origin);
      destinations.push(f.destination);
      distances.push(f.distance);
    }
  if (delayed.length === 0) throw new Error('no flights to replay in the window');
  const scores = new Map(versions.map((v, k) => [v, Float32Array.from(probabilities[k]!)]));
  const n = delayed.length;
  const step = opts.shuffle ? coprimeStep(n) : 1;
  return {
    flights: n,
    request(i) {
      // i ↦ i·step mod n visits every flight once per n requests when step and n are coprime; the product
      // stays below n² (10¹² for a million flights), well within a double's exact integers.
      const k = ((i % n) * step) % n;
      return {
        key: origins[k]!,
        actual: delayed[k]!,
        ...(opts.segmentByOrigin ? { segment: origins[k]! } : {}),
        // What the model saw, reported with the prediction for drift checks (categories as text).
        features: { origin: origins[k]!, destination: destinations[k]!, distance: distances[k]! },
        predict: (version) => {
          const p = scores.get(version)?.[k];
          return p === undefined ? null : { label: p >= 0.5, probability: p };
        },
      };
    },
    accuracy(version, origin) {
      const p = scores.get(version);
      if (!p) return Number.NaN;
      let correct = 0;
      let flights = 0;
      for (let k = 0; k < n; k++) {
        if (origin !== undefined && origins[k] !== origin) continue;
        flights++;
        if (p[k]! >= 0.5 === delayed[k]) correct++;
      }
      return correct / flights;
    },
  };
}

/** A step near n·0.618 (well spread) that shares no factor with n. */
function coprimeStep(n: number): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let step = Math.max(1, Math.floor(n * 0.6180339887));
  while (gcd(step, n) !== 1) step++;
  return step;
}
