import { DELAYED_AFTER_MINUTES, type FlightBatch } from './data.js';

/**
 * The two versions' inputs. `schedule` (the champion): the hour of departure as two daily harmonics and the
 * distance. `schedule+airports` (the challenger): the same, plus the origin's and the destination's delay
 * rates in the training data, the day of the week, and the origin's delay rate over the previous hours.
 */
export const FEATURE_SETS = ['schedule', 'schedule+airports'] as const;
export type FeatureSet = (typeof FEATURE_SETS)[number];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The window of departures whose delays the recent-delay feature counts. */
export const RECENT_WINDOW_MS = 3 * HOUR_MS;
/**
 * A flight's label becomes known this long after its scheduled departure: by then it has left on time or
 * is delayed by more than 15 minutes. The recent-delay feature counts only flights whose label is known at
 * the departure it is computed for, so a live server could compute it too.
 */
export const LABEL_KNOWN_AFTER_MS = DELAYED_AFTER_MINUTES * 60_000;
/** Pseudo-counts pulling a rate toward its prior (an airport's training rate, or the overall one). */
const AIRPORT_SMOOTHING = 50;
const RECENT_SMOOTHING = 5;

/** Delay rates learned from the training window only: the challenger's encoding of airports. */
export interface AirportRates {
  overall: number;
  origin: Record<string, number>;
  destination: Record<string, number>;
}

export function featureNames(set: FeatureSet): string[] {
  const schedule = ['hour_sin1', 'hour_cos1', 'hour_sin2', 'hour_cos2', 'log_distance'];
  if (set === 'schedule') return schedule;
  return [
    ...schedule,
    'origin_rate',
    'destination_rate',
    ...['mon', 'tue', 'wed', 'thu', 'fri', 'sat'],
    'origin_recent_rate',
  ];
}

export const isDelayed = (delayMinutes: number): boolean => delayMinutes > DELAYED_AFTER_MINUTES;

const logit = (p: number): number => Math.log(p / (1 - p));

/** Smoothed delay rates per airport over the flights of the training window. */
export function learnAirportRates(batches: Iterable<FlightBatch>): AirportRates {
  const counts = {
    origin: new Map<string, [number, number]>(),
    destination: new Map<string, [number, number]>(),
  };
  let delayed = 0;
  let n = 0;
  for (const b of batches)
    for (let i = 0; i < b.time.length; i++) {
      const d = isDelayed(b.delay[i]!) ? 1 : 0;
      delayed += d;
      n++;
      for (const [side, code] of [
        ['origin', b.origin[i]!],
        ['destination', b.destination[i]!],
      ] as const) {
        const c = counts[side].get(code) ?? [0, 0];
        c[0] += d;
        c[1] += 1;
        counts[side].set(code, c);
      }
    }
  if (n === 0) throw new RangeError('no flights in the training window');
  const overall = delayed / n;
  const smoothed = (m: Map<string, [number, number]>): Record<string, number> =>
    Object.fromEntries(
      [...m]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([code, [d, k]]) => [code, (d + AIRPORT_SMOOTHING * overall) / (k + AIRPORT_SMOOTHING)]),
    );
  return { overall, origin: smoothed(counts.origin), destination: smoothed(counts.destination) };
}

/**
 * Each origin's departures so far, in time order, for the recent-delay feature: a flight at t counts the
 * origin's flights scheduled in [t − 3 h, t − 15 min], whose labels are known at t. Flights must be fed in
 * departure order (the file's order); `observe` adds a flight after its own features were computed.
 */
export class RecentDelays {
  private readonly byOrigin = new Map<
    string,
    { times: number[]; delayed: number[]; lo: number; hi: number }
  >();

  /** Known delayed and known flights from `origin` in the window before `t`. */
  count(origin: string, t: number): { delayed: number; flights: number } {
    const s = this.byOrigin.get(origin);
    if (!s) return { delayed: 0, flights: 0 };
    while (s.lo < s.times.length && s.times[s.lo]! < t - RECENT_WINDOW_MS) s.lo++;
    if (s.hi < s.lo) s.hi = s.lo;
    while (s.hi < s.times.length && s.times[s.hi]! <= t - LABEL_KNOWN_AFTER_MS) s.hi++;
    return { delayed: s.delayed[s.hi]! - s.delayed[s.lo]!, flights: s.hi - s.lo };
  }

  observe(origin: string, t: number, delayed: boolean): void {
    let s = this.byOrigin.get(origin);
    if (!s) this.byOrigin.set(origin, (s = { times: [], delayed: [0], lo: 0, hi: 0 }));
    s.times.push(t);
    // delayed[k] = delayed flights among the first k (prefix sums), so a window's count is a subtraction.
    s.delayed.push(s.delayed[s.delayed.length - 1]! + (delayed ? 1 : 0));
  }
}

/** The feature vector of flight i of a batch; `recent` must have seen every earlier flight. */
export function featureVector(
  set: FeatureSet,
  b: FlightBatch,
  i: number,
  rates: AirportRates | undefined,
  recent: RecentDelays | undefined,
): number[] {
  const t = b.time[i]!;
  const hour = ((t % DAY_MS) / HOUR_MS) * ((2 * Math.PI) / 24);
  const schedule = [
    Math.sin(hour),
    Math.cos(hour),
    Math.sin(2 * hour),
    Math.cos(2 * hour),
    Math.log(b.distance[i]!),
  ];
  if (set === 'schedule') return schedule;
  if (!rates || !recent) throw new Error('schedule+airports needs the airport rates and the recent delays');
  const origin = b.origin[i]!;
  const originRate = rates.origin[origin] ?? rates.overall;
  // 1970-01-01 was a Thursday: day 0 → Thursday.
  const weekday = (Math.floor(t / DAY_MS) + 4) % 7; // 0 = Sunday
  const days = [1, 2, 3, 4, 5, 6].map((d) => (weekday === d ? 1 : 0));
  const { delayed, flights } = recent.count(origin, t);
  const recentRate = (delayed + RECENT_SMOOTHING * originRate) / (flights + RECENT_SMOOTHING);
  return [
    ...schedule,
    logit(originRate),
    logit(rates.destination[b.destination[i]!] ?? rates.overall),
    ...days,
    logit(recentRate),
  ];
}
