import { describe, expect, it } from 'vitest';
import type { ModelReportData } from '../../../src/report/model-report-data.js';
import { renderModelReportHtml } from '../../../src/report/model-report-html.js';

const data = (ns: number[]): ModelReportData => ({
  model: 'weather',
  from: '2015-12-24T00:00:00.000Z',
  to: '2015-12-31T00:00:00.000Z',
  champion: '1.1.0',
  daily: ns.map((n, d) => ({
    day: `2015-12-${String(24 + d).padStart(2, '0')}`,
    version: '1.1.0',
    n,
    mae: n ? 2 : null,
    errorRate: n ? 0 : null,
  })),
  backtests: [],
  drift: [],
  rollouts: [],
  retrains: [],
  alerts: [],
});

describe('the weekly model report', () => {
  it('heads the page with the week’s served predictions, summed over the days', () => {
    expect(renderModelReportHtml(data([1200, 0, 950, 3100, 0, 0, 875]))).toContain(
      'champion 1.1.0 · 6125 served predictions',
    );
    expect(renderModelReportHtml(data([]))).toContain('champion 1.1.0 · 0 served predictions');
  });
});
