import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { createKnex } from '../../db/knex.js';
import { InvalidInputError } from '../../errors.js';
import { loadModelReport } from '../../report/model-report-data.js';
import { renderModelReportHtml } from '../../report/model-report-html.js';
import { loadRolloutReport } from '../../report/rollout-report-data.js';
import { renderRolloutReportHtml } from '../../report/rollout-report-html.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { emit } from '../output.js';
import { integerOption } from '../parse.js';

export function registerReport(program: Command): void {
  program
    .command('report [rolloutId]')
    .description(
      'write a self-contained HTML report: of a rollout (charts, decisions, actors), or with --model of a model’s week',
    )
    .option(
      '--model <model>',
      'the performance report of a model instead (champion MAE, backtests, drift, rollouts, retrains)',
    )
    .option('--days <n>', 'with --model: how many days back', '7')
    .option('--out <file>', 'where to write it (default: <ARENA_HOME>/reports/…)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        rolloutId: string | undefined,
        opts: { model?: string; days: string; out?: string; json?: boolean },
      ) => {
        if (!rolloutId && !opts.model)
          throw new InvalidInputError(
            'rolloutId',
            rolloutId,
            'give a rollout id, or --model MODEL for a model report',
          );
        const days = integerOption('--days', opts.days, { min: 1, max: 366 });
        const env = loadEnv();
        const endpoints = await resolveEndpoints(env);
        const knex = createKnex(endpoints.database.url, { max: 2 });
        try {
          const html = opts.model
            ? renderModelReportHtml(await loadModelReport(knex, opts.model, { days }))
            : renderRolloutReportHtml(
                await loadRolloutReport(knex, rolloutId!, {
                  temporalUi: endpoints.temporal.ui ?? null,
                  namespace: env.TEMPORAL_NAMESPACE,
                }),
              );
          const name = opts.model
            ? `${opts.model}-week-${new Date().toISOString().slice(0, 10)}`
            : rolloutId!;
          const path = resolve(opts.out ?? join(env.arenaHome, 'reports', `${name}.html`));
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, html);
          emit(
            opts.json,
            { ...(opts.model ? { model: opts.model } : { rolloutId }), path, bytes: Buffer.byteLength(html) },
            () => `Report written to ${path}`,
          );
        } finally {
          await knex.destroy();
        }
      },
    );
}
