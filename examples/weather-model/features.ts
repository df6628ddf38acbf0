import type { WeatherDay } from './data.js';

export const FEATURE_SETS = ['seasonal', 'seasonal+lags'] as const;
export type FeatureSet = (typeof FEATURE_SETS)[number];

const DAY_MS = 86_400_000;

function dayOfYear(date: string): number {
  const t = Date.parse(`${date}T00:00:00Z`);
  return Math.floor((t - Date.parse(`${date.slice(0, 4)}-01-01T00:00:00Z`)) / DAY_MS) + 1;
}

/** The previous calendar day's row, or null when it is missing from the data (no silent gap filling). */
function yesterday(days: WeatherDay[], index: number, back = 1): WeatherDay | null {
  const d = days[index - back];
  if (!d) return null;
  const expected = new Date(Date.parse(`${days[index]!.date}T00:00:00Z`) - back * DAY_MS)
    .toISOString()
    .slice(0, 10);
  return d.date === expected ? d : null;
}

/**
 * The named inputs for forecasting day `index`'s maximum temperature, using only what is known at the end of
 * the day before (no leakage: day `index`'s own values are never read). Null when history is missing.
 * `seasonal` is the climatology of the calendar; `seasonal+lags` adds yesterday's weather, which carries the
 * persistence of weather systems over a day or two.
 */
export function featureVector(
  set: FeatureSet,
  days: WeatherDay[],
  index: number,
): Record<string, number> | null {
  const day = days[index];
  if (!day) return null;
  const w = (2 * Math.PI * dayOfYear(day.date)) / 365.25;
  const seasonal = { sin1: Math.sin(w), cos1: Math.cos(w), sin2: Math.sin(2 * w), cos2: Math.cos(2 * w) };
  if (set === 'seasonal') return seasonal;
  const d1 = yesterday(days, index, 1);
  const d2 = yesterday(days, index, 2);
  if (!d1 || !d2) return null;
  return {
    ...seasonal,
    temp_max_1: d1.tempMax,
    temp_min_1: d1.tempMin,
    precipitation_1: d1.precipitation,
    wind_1: d1.wind,
    temp_max_2: d2.tempMax,
  };
}

/** The observed weather a forecast for day `index` starts from; what drift monitoring compares. */
export const MONITORED_FEATURES = ['temp_max_1', 'temp_min_1', 'precipitation_1', 'wind_1'] as const;

/**
 * Yesterday's observations for day `index`, whatever the feature set: calendar terms are left out on
 * purpose, because a recent window always covers few calendar days and would look drifted by design.
 */
export function monitoredFeatures(days: WeatherDay[], index: number): Record<string, number> | null {
  const d1 = index > 0 ? yesterday(days, index, 1) : null;
  if (!d1) return null;
  return {
    temp_max_1: d1.tempMax,
    temp_min_1: d1.tempMin,
    precipitation_1: d1.precipitation,
    wind_1: d1.wind,
  };
}
