import { mean } from 'simple-statistics';
import type { WeatherDay } from '../../examples/weather-model/data.js';
import { monitoredFeatures } from '../../examples/weather-model/features.js';
import { forecast, type WeatherModelArtifact } from '../../examples/weather-model/model.js';
import type { Workload, WorkloadRequest } from '../simulate/traffic.js';

export interface WeatherReplay extends Workload {
  /** A forecast: the answer is a number, the outcome a temperature. */
  request(i: number): Omit<WorkloadRequest, 'actual' | 'predict'> & {
    actual: number;
    predict(version: string): number | null;
  };
  /** The replayed days (inclusive window), in order. */
  dates: string[];
  /** Each version's mean absolute error over the replayed days, from its real forecasts. */
  mae(version: string): number;
}

/**
 * The real data set replayed as live traffic: request i asks for the forecast of one day of the window
 * (cycling through it), the routed version answers with its real forecast, and the day's observed maximum
 * temperature arrives later as feedback. Forecasts are computed once per version and day, because a model
 * answers the same question the same way and the demo sends each day many times.
 */
export function weatherReplay(opts: {
  days: WeatherDay[];
  from: string;
  to: string;
  /** Version → the artifact that serves it (two versions may share one). */
  artifacts: Record<string, WeatherModelArtifact>;
  /**
   * Drift injection: temperatures from `from` on are this many °C higher (a heat wave, or a sensor that
   * reads high), in what the models see and in the observed outcome alike.
   */
  shiftTempC?: number;
}): WeatherReplay {
  const shift = opts.shiftTempC ?? 0;
  const days = shift
    ? opts.days.map((d) =>
        d.date >= opts.from ? { ...d, tempMax: d.tempMax + shift, tempMin: d.tempMin + shift } : d,
      )
    : opts.days;
  const indexes = days.flatMap((d, i) => (d.date >= opts.from && d.date <= opts.to ? [i] : []));
  if (indexes.length === 0) throw new Error(`no days to replay between ${opts.from} and ${opts.to}`);
  const answers = new Map<string, Array<number | null>>();
  for (const [version, artifact] of Object.entries(opts.artifacts))
    answers.set(
      version,
      indexes.map((i) => forecast(artifact, days, i)),
    );
  const actual = indexes.map((i) => days[i]!.tempMax);
  const features = indexes.map((i) => monitoredFeatures(days, i));
  return {
    dates: indexes.map((i) => days[i]!.date),
    request(n) {
      const k = n % indexes.length;
      return {
        key: days[indexes[k]!]!.date,
        actual: actual[k]!,
        features: features[k] ?? null,
        predict: (version) => answers.get(version)?.[k] ?? null,
      };
    },
    mae(version) {
      const forecasts = answers.get(version);
      if (!forecasts) return Number.NaN;
      const errors = forecasts.flatMap((f, k) => (f === null ? [] : [Math.abs(f - actual[k]!)]));
      // No forecast at all: NaN, as 0 / 0 was before (simple-statistics' mean throws on an empty array).
      return errors.length ? mean(errors) : Number.NaN;
    },
  };
}
