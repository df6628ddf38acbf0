import { describe, expect, it } from 'vitest';
import {
  backtestWindows,
  sparkline,
  trendOf,
  type BacktestWindow,
  type DailyForecast,
} from '../../../src/backtest/windows.js';

const day = (date: string, forecast: number, actual: number): DailyForecast => ({ date, forecast, actual });
const window = (mae: number): BacktestWindow => ({
  windowStart: '2015-01-01',
  windowEnd: '2015-01-07',
  n: 7,
  mae,
  mape: Number.NaN,
  bias: 0,
});

describe('backtest windows', () => {
  it('scores each window: MAE, bias (forecast − actual) and MAPE over days at least 1 away from zero', () => {
    const days = [
      day('2015-01-01', 12, 10), // +2, 20 %
      day('2015-01-02', 7, 8), // −1, 12.5 %
      day('2015-01-03', 0.5, 0.2), // +0.3, left out of MAPE (|actual| < 1)
      day('2015-01-04', -3, -4), // +1, 25 %
      day('2015-01-05', 20, 20), // 0, 0 %
    ];
    const [w, ...rest] = backtestWindows(days, { asOf: '2015-01-06', windowDays: 3, lookbackDays: 6 });
    expect(rest).toHaveLength(1);
    expect(w).toMatchObject({ windowStart: '2015-01-01', windowEnd: '2015-01-03', n: 3 });
    expect(w!.mae).toBeCloseTo((2 + 1 + 0.3) / 3, 15);
    expect(w!.bias).toBeCloseTo((2 - 1 + 0.3) / 3, 15);
    expect(w!.mape).toBeCloseTo((0.2 + 0.125) / 2, 15);
    expect(rest[0]).toMatchObject({ windowStart: '2015-01-04', windowEnd: '2015-01-06', n: 2 });
    expect(rest[0]!.mae).toBe(0.5);
    expect(rest[0]!.bias).toBe(0.5);
    expect(rest[0]!.mape).toBe(0.125);
  });

  it('leaves out windows without forecasts, and has no MAPE when every actual is near zero', () => {
    const days = [day('2015-01-05', 0.5, 0), day('2015-01-06', -0.5, 0)];
    const windows = backtestWindows(days, { asOf: '2015-01-06', windowDays: 2, lookbackDays: 6 });
    expect(windows).toHaveLength(1);
    expect(windows[0]).toMatchObject({ windowStart: '2015-01-05', n: 2, mae: 0.5, bias: 0 });
    expect(windows[0]!.mape).toBeNaN();
    expect(backtestWindows([], { asOf: '2015-01-06', windowDays: 7, lookbackDays: 28 })).toEqual([]);
  });

  it('draws a sparkline from the lowest to the highest finite value; gaps stay blank', () => {
    expect(sparkline([])).toBe('');
    expect(sparkline([Number.NaN])).toBe('');
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([3, Number.NaN, 10, -4])).toBe('▅ █▁');
    expect(sparkline([2, 2])).toBe('▄▄');
  });

  it('calls the trend from the mean MAE of the first and the last third of the windows', () => {
    expect(trendOf([window(1), window(1)])).toBe('too short');
    expect(trendOf([window(1), window(5), window(1.04)])).toBe('stable');
    expect(trendOf([window(1), window(1), window(1), window(2), window(1.1), window(1.1)])).toBe(
      'getting worse', // 1 → 1.1: +10 %
    );
    expect(trendOf([window(2), window(2), window(9), window(9), window(1.5), window(1.7)])).toBe(
      'getting better', // 2 → 1.6: −20 % (the middle third does not count)
    );
  });
});
