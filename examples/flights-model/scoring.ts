import { readArtifactFile } from '../artifact-file.js';
import { readFlights } from './data.js';
import { featureVector, isDelayed, RECENT_WINDOW_MS, RecentDelays } from './features.js';
import { flightsModelArtifactSchema, probability, type FlightsModelArtifact } from './model.js';

/** Reads and validates a flights artifact; with a digest, refuses bytes that do not hash to it. */
export function loadFlightsArtifact(path: string, expectedDigest?: string): Promise<FlightsModelArtifact> {
  return readArtifactFile(path, flightsModelArtifactSchema, expectedDigest);
}

/** One flight as a model scored it, with what happened. */
export interface ScoredFlight {
  time: number;
  origin: string;
  destination: string;
  distance: number;
  delay: number;
  /** P(delayed more than 15 min), per model, in the order the models were given. */
  p: number[];
  delayed: boolean;
}

/**
 * Scores every flight scheduled in [from, to) with each model, walking forward: the recent-delay feature
 * sees the labels known before each departure (the stream starts 3 h early to fill its window), and the
 * airport rates are each artifact's own, learnt from its training window. Models sharing one pass share
 * the stream, so a comparison reads the file once.
 */
export async function* scoreFlights(
  models: readonly FlightsModelArtifact[],
  window: { from: number; to: number; path?: string },
): AsyncGenerator<ScoredFlight[]> {
  const recent = new RecentDelays();
  const source = window.path !== undefined ? { path: window.path } : {};
  for await (const b of readFlights({ ...source, from: window.from - RECENT_WINDOW_MS, to: window.to })) {
    const out: ScoredFlight[] = [];
    for (let i = 0; i < b.time.length; i++) {
      const t = b.time[i]!;
      if (t >= window.from)
        out.push({
          time: t,
          origin: b.origin[i]!,
          destination: b.destination[i]!,
          distance: b.distance[i]!,
          delay: b.delay[i]!,
          p: models.map((m) => probability(m, featureVector(m.featureSet, b, i, m.airportRates, recent))),
          delayed: isDelayed(b.delay[i]!),
        });
      recent.observe(b.origin[i]!, t, isDelayed(b.delay[i]!));
    }
    if (out.length) yield out;
  }
}
