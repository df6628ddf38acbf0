import { extent, mean } from 'simple-statistics';

export interface DailyForecast {
  date: string;
  forecast: number;
  actual: number;
}

export interface BacktestWindow {
  windowStart: string;
  windowEnd: string;
  n: number;
  mae: number;
  /** Mean absolute percentage error over days whose actual is at least 1 away from zero (NaN if none). */
  mape: number;
  /** Mean of forecast − actual: positive = forecasts run high. */
  bias: number;
}

const DAY = 86_400_000;
const iso = (t: number): string => new Date(t).toISOString().slice(0, 10);

/**
 * Consecutive `windowDays`-day windows ending at `asOf` (inclusive), going back `lookbackDays`; each gets the
 * error figures of the daily forecasts inside it. Windows without forecasts are left out.
 */
export function backtestWindows(
  days: DailyForecast[],
  opts: { asOf: string; windowDays: number; lookbackDays: number },
): BacktestWindow[] {
  const end = Date.parse(`${opts.asOf}T00:00:00Z`);
  const count = Math.floor(opts.lookbackDays / opts.windowDays);
  const out: BacktestWindow[] = [];
  for (let k = count - 1; k >= 0; k--) {
    const windowEnd = iso(end - k * opts.windowDays * DAY);
    const windowStart = iso(end - (k * opts.windowDays + opts.windowDays - 1) * DAY);
    const inside = days.filter((d) => d.date >= windowStart && d.date <= windowEnd);
    if (!inside.length) continue;
    const errors = inside.map((d) => d.forecast - d.actual);
    const pct = inside
      .filter((d) => Math.abs(d.actual) >= 1)
      .map((d) => Math.abs((d.forecast - d.actual) / d.actual));
    out.push({
      windowStart,
      windowEnd,
      n: inside.length,
      // `inside` is not empty here, so the means are defined (simple-statistics throws on an empty array).
      mae: mean(errors.map((e) => Math.abs(e))),
      mape: pct.length ? mean(pct) : Number.NaN,
      bias: mean(errors),
    });
  }
  return out;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A text sparkline of a series (the trend at a glance in a terminal). */
export function sparkline(values: number[]): string {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return '';
  const [lo, hi] = extent(finite);
  return values
    .map((v) =>
      Number.isFinite(v) ? BARS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))] : ' ',
    )
    .join('');
}

/** "getting worse" when the recent third of the windows averages > 5 % above the first third, etc. */
export function trendOf(
  windows: BacktestWindow[],
): 'getting worse' | 'getting better' | 'stable' | 'too short' {
  if (windows.length < 3) return 'too short';
  const third = Math.max(1, Math.floor(windows.length / 3));
  // Both slices hold `third` ≥ 1 windows, so the means are defined.
  const first = mean(windows.slice(0, third).map((w) => w.mae));
  const last = mean(windows.slice(-third).map((w) => w.mae));
  const change = (last - first) / first;
  return change > 0.05 ? 'getting worse' : change < -0.05 ? 'getting better' : 'stable';
}
