import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backtestResultsOfModel,
  latestBacktestResult,
  upsertBacktestResults,
} from '../../../src/backtest/result-store.js';
import type { BacktestWindow } from '../../../src/backtest/windows.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const window = (start: string, end: string, mae: number, mape = 0.1): BacktestWindow => ({
  windowStart: start,
  windowEnd: end,
  n: 7,
  mae,
  mape,
  bias: 0.5,
});
const day = (d: Date | string): string => (d instanceof Date ? d.toISOString() : d).slice(0, 10);

describe('backtest result store (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('backtest_results');
  });
  afterAll(async () => db?.drop());

  it('replaces a window scored again instead of adding one, and reads them back oldest first', async () => {
    const args = { tenantId: 'default', model: 'm', version: '1.0.0' };
    await upsertBacktestResults(db.knex, { ...args, windows: [] });
    await upsertBacktestResults(db.knex, {
      ...args,
      windows: [window('2026-01-08', '2026-01-14', 2), window('2026-01-01', '2026-01-07', 1, NaN)],
    });
    await upsertBacktestResults(db.knex, { ...args, windows: [window('2026-01-08', '2026-01-14', 3)] });
    await upsertBacktestResults(db.knex, {
      ...args,
      model: 'other',
      windows: [window('2026-02-01', '2026-02-07', 9)],
    });

    const rows = await backtestResultsOfModel(db.knex, 'default', 'm');
    expect(rows.map((r) => [day(r.window_start), day(r.window_end), r.mae, r.mape])).toEqual([
      ['2026-01-01', '2026-01-07', 1, null],
      ['2026-01-08', '2026-01-14', 3, 0.1],
    ]);
  });

  it('names the latest window of any version, the newest stored when two end the same day', async () => {
    await upsertBacktestResults(db.knex, {
      tenantId: 'default',
      model: 'm',
      version: '1.1.0',
      windows: [window('2026-01-08', '2026-01-14', 4)],
    });
    const latest = await latestBacktestResult(db.knex, 'default', 'm');
    expect(latest).toMatchObject({ version: '1.1.0', n: 7, mae: 4, mape: 0.1, bias: 0.5 });
    expect(day(latest!.window_end)).toBe('2026-01-14');
    expect(Object.keys(latest!).sort()).toEqual([
      'bias',
      'mae',
      'mape',
      'n',
      'version',
      'window_end',
      'window_start',
    ]);
    expect(await latestBacktestResult(db.knex, 'default', 'none')).toBeUndefined();
  });
});
