import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/policy/policy.js';
import type { RolloutReportData } from '../../../src/report/rollout-report-data.js';
import {
  escapeHtml,
  renderRolloutReportHtml,
  scriptSafeJson,
} from '../../../src/report/rollout-report-html.js';

const hostile = '</script><script>alert(1)</script><!--';

function data(): RolloutReportData {
  return {
    rollout: {
      id: 'r-1',
      model: hostile,
      champion: '1.0.0',
      challenger: '1.1.0',
      state: 'promoted',
      decision: `promote: <b>${hostile}</b>`,
      proposedBy: 'mallory "the proposer"',
      createdAt: '2026-11-22T10:00:00.000Z',
      endedAt: '2026-11-22T10:01:05.000Z',
      workflowId: 'rollout-default-x',
      policy: DEFAULT_POLICY,
    },
    traffic: [],
    analyses: [],
    events: [
      {
        seq: 1,
        at: '2026-11-22T10:00:00.000Z',
        type: 'transition',
        from: null,
        to: 'awaiting_approval',
        actor: hostile,
        reason: null,
      },
    ],
    approvals: [],
    alerts: [],
    temporalUi: 'http://127.0.0.1:8233/namespaces/default/workflows/x"onmouseover="alert(1)',
  };
}

describe('rollout report HTML', () => {
  it('escapes every user-supplied string in markup and in the embedded data', () => {
    const html = renderRolloutReportHtml(data());
    // The only script elements are the three the report itself writes.
    expect(html.match(/<script/g)).toHaveLength(3);
    expect(html).not.toContain('<script>alert(1)');
    expect(html).not.toContain('"onmouseover="');
    expect(html).toContain(escapeHtml(hostile));
    const embedded = html.match(
      /<script type="application\/json" id="arena-report-data">([\s\S]*?)<\/script>/,
    )![1]!;
    expect(JSON.parse(embedded)).toEqual(JSON.parse(JSON.stringify(data())));
  });

  it('script-safe JSON round-trips and cannot close its element', () => {
    const value = { a: hostile, b: 'x\u2028y & z > w' };
    const text = scriptSafeJson(value);
    expect(text).not.toMatch(/<|>|&|\u2028/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('says in the header how long the rollout took and how it ended', () => {
    const html = renderRolloutReportHtml(data());
    expect(html).toContain('<b>1m 5s</b>');
    expect(html).toContain('class="badge good">Promoted<');
  });
});
