import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { sparkline } from '../../backtest/windows.js';
import { InvalidInputError } from '../../errors.js';
import type { backtestWorkflow } from '../../../workflows/backtest.js';
import { isCalendarDate } from '../../validation/calendar-date.js';
import { emit } from '../output.js';
import { integerOption } from '../parse.js';
import { withTemporal } from '../temporal.js';

export function registerBacktest(program: Command): void {
  program
    .command('backtest <model> [version]')
    .description('walk-forward backtest (7-day windows over the last 90 days by default) and its trend')
    .option(
      '--as-of <date>',
      'last day of the look-back (default: yesterday, or the end of a fixed data set)',
    )
    .option('--lookback-days <n>', 'days to look back (default: the model’s configuration, 90)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string,
        version: string | undefined,
        o: { asOf?: string; lookbackDays?: string; json?: boolean },
      ) => {
        if (o.asOf && !isCalendarDate(o.asOf))
          throw new InvalidInputError('--as-of', o.asOf, 'must be a real date YYYY-MM-DD');
        // The bounds of a model's backtest configuration (lookbackDays).
        const lookbackDays =
          o.lookbackDays === undefined
            ? undefined
            : integerOption('--lookback-days', o.lookbackDays, { min: 1, max: 3650 });
        const out = await withTemporal(async ({ client, taskQueue }) =>
          (
            await client.workflow.start<typeof backtestWorkflow>('backtestWorkflow', {
              taskQueue,
              workflowId: `arena-backtest-${model}-${randomBytes(3).toString('hex')}`,
              args: [
                {
                  tenantId: 'default',
                  model,
                  ...(version ? { version } : {}),
                  ...(o.asOf ? { asOf: o.asOf } : {}),
                  ...(lookbackDays ? { lookbackDays } : {}),
                },
              ],
            })
          ).result(),
        );
        emit(o.json, out, () =>
          [
            `${model} ${out.version}: ${out.windows.length} windows up to ${out.asOf}; MAE trend ${sparkline(out.windows.map((w) => w.mae))} ${out.trend}`,
            ...out.windows.map(
              (w) =>
                `  ${w.windowStart}..${w.windowEnd}  n=${String(w.n).padStart(2)}  MAE ${w.mae.toFixed(3)}  MAPE ${Number.isFinite(w.mape) ? `${(w.mape * 100).toFixed(1)}%` : '—'}  bias ${w.bias >= 0 ? '+' : ''}${w.bias.toFixed(3)}`,
            ),
            `  ${out.degraded ? 'DEGRADED: ' : ''}${out.reason}`,
            ...(out.retrainJob ? [`  retraining job ${out.retrainJob} started`] : []),
          ].join('\n'),
        );
      },
    );
}
