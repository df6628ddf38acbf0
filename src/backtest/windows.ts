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
      mae: errors.reduce((s, e) => s + Math.abs(e), 0) / inside.length,
      mape: pct.length ? pct.reduce((s, e) => s + e, 0) / pct.length : Number.NaN,
      bias: errors.reduce((s, e) => s + e, 0) / inside.length,
    });
  }
  return out;
}

const BARS = '▁▂▃▄▅▆▇█';

/** A text sparkline of a series (the trend at a glance in a terminal). */
export function sparkline(values: number[]): string {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return '';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
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
  const mean = (w: BacktestWindow[]) => w.reduce((s, x) => s + x.mae, 0) / w.length;
  const first = mean(windows.slice(0, third));
  const last = mean(windows.slice(-third));
  const change = (last - first) / first;
  return change > 0.05 ? 'getting worse' : change < -0.05 ? 'getting better' : 'stable';
}
