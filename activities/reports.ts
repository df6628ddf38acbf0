import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModelReport } from '../src/report/model-report-data.js';
import { renderModelReportHtml } from '../src/report/model-report-html.js';
import type { ActivityDeps } from './deps.js';

/** The weekly report of a model, written as an HTML file named by model and week end (rewritten on retry). */
export function reportActivities({ knex, clock, reportDir }: ActivityDeps) {
  return {
    async writeModelReport(args: {
      tenantId: string;
      model: string;
      days?: number;
    }): Promise<{ path: string; bytes: number }> {
      const to = clock();
      const data = await loadModelReport(knex, args.model, {
        tenantId: args.tenantId,
        to,
        days: args.days ?? 7,
      });
      const html = renderModelReportHtml(data);
      const dir = reportDir ?? '.arena/reports';
      await mkdir(dir, { recursive: true });
      const path = join(dir, `${args.model}-week-${to.toISOString().slice(0, 10)}.html`);
      await writeFile(path, html);
      return { path, bytes: Buffer.byteLength(html) };
    },
  };
}
