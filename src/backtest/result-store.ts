import type { Knex } from 'knex';
import type { BacktestWindow } from './windows.js';

/** One scored backtest window as stored; dates come back as Date or 'YYYY-MM-DD' depending on the driver. */
export interface BacktestResultRow {
  version: string;
  window_start: Date | string;
  window_end: Date | string;
  n: number;
  mae: number | null;
  mape: number | null;
  bias: number | null;
}

/** Stores a run's windows; a window scored before is replaced, so re-runs never add rows. */
export async function upsertBacktestResults(
  knex: Knex,
  args: { tenantId: string; model: string; version: string; windows: BacktestWindow[] },
): Promise<void> {
  if (!args.windows.length) return;
  await knex('backtest_results')
    .insert(
      args.windows.map((w) => ({
        tenant_id: args.tenantId,
        model: args.model,
        version: args.version,
        window_start: w.windowStart,
        window_end: w.windowEnd,
        n: w.n,
        mae: w.mae,
        mape: Number.isFinite(w.mape) ? w.mape : null,
        bias: w.bias,
      })),
    )
    .onConflict(['tenant_id', 'model', 'version', 'window_start', 'window_end'])
    .merge(['n', 'mae', 'mape', 'bias']);
}

/** The most recent window of any version of a model (the latest stored when two end the same day). */
export async function latestBacktestResult(
  knex: Knex,
  tenantId: string,
  model: string,
): Promise<BacktestResultRow | undefined> {
  return (await knex('backtest_results')
    .where({ tenant_id: tenantId, model })
    .orderBy('window_end', 'desc')
    .orderBy('created_at', 'desc')
    .first('version', 'window_start', 'window_end', 'n', 'mae', 'mape', 'bias')) as
    BacktestResultRow | undefined;
}

/** A model's stored windows, oldest first, at most 200. */
export async function backtestResultsOfModel(
  knex: Knex,
  tenantId: string,
  model: string,
): Promise<BacktestResultRow[]> {
  return (await knex('backtest_results')
    .where({ tenant_id: tenantId, model })
    .orderBy('window_end')
    .limit(200)) as BacktestResultRow[];
}
