import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadEnv } from '../../config/env.js';
import { createKnex } from '../../db/knex.js';
import { loadRolloutReport } from '../../report/rollout-report-data.js';
import { renderRolloutReportHtml } from '../../report/rollout-report-html.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { emit } from '../output.js';

export function registerReport(program: Command): void {
  program
    .command('report <rolloutId>')
    .description('write a self-contained HTML report of a rollout (charts, decisions, actors)')
    .option('--out <file>', 'where to write it (default: <ARENA_HOME>/reports/<rolloutId>.html)')
    .option('--json', 'machine-readable output')
    .action(async (rolloutId: string, opts: { out?: string; json?: boolean }) => {
      const env = loadEnv();
      const endpoints = await resolveEndpoints(env);
      const knex = createKnex(endpoints.database.url, { max: 2 });
      try {
        const data = await loadRolloutReport(knex, rolloutId, {
          temporalUi: endpoints.temporal.ui ?? null,
          namespace: env.TEMPORAL_NAMESPACE,
        });
        const html = renderRolloutReportHtml(data);
        const path = resolve(opts.out ?? join(env.arenaHome, 'reports', `${rolloutId}.html`));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, html);
        emit(
          opts.json,
          { rolloutId, path, bytes: Buffer.byteLength(html) },
          () => `Report written to ${path}`,
        );
      } finally {
        await knex.destroy();
      }
    });
}
