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

  it('says which metric was capped in which stage, and at what value, as the latest analysis recorded it', () => {
    const analysis = (seq: number, caps: RolloutReportData['analyses'][number]['caps']) => ({
      seq,
      at: `2026-11-22T10:00:0${seq}.000Z`,
      stageIndex: 1,
      mode: 'canary',
      decision: 'waiting',
      action: 'continue',
      summary: '',
      samples: { champion: 1, challenger: 1 },
      primary: null,
      guardrails: [],
      caps,
      segments: null,
    });
    const note = (v: string) => `abs_error capped at ${v} in stage 2: the champion’s p99.9 <b>`;
    const html = renderRolloutReportHtml({
      ...data(),
      analyses: [
        analysis(1, [{ metric: 'abs_error', stageIndex: 1, cap: 480.1234567, note: note('480.1') }]),
        analysis(2, [{ metric: 'abs_error', stageIndex: 1, cap: 483.1234567, note: note('483.1') }]),
      ],
    });
    expect(html).toContain('<h2>Capped metrics</h2>');
    expect(html).toContain('<td>2</td><td>abs_error</td><td>483.123</td>');
    expect(html).toContain(escapeHtml(note('483.1')));
    expect(html).not.toContain('<td>480.123</td>');
    expect(renderRolloutReportHtml(data())).not.toContain('Capped metrics');
  });

  it('draws the per-segment check as a forest plot: worse segments in red, untested ones named, names escaped', () => {
    const row = (segment: string, estimate: number, worse = false) => ({
      segment,
      n: { champion: 5000, challenger: 600 },
      tested: true,
      estimate,
      low: estimate - 0.03,
      high: estimate + 0.03,
      adjustedPValue: worse ? 0.001 : 1,
      worse,
    });
    const segments = {
      metric: 'correct',
      onWorse: 'partial' as const,
      status: 'pass',
      reason: 'segments: correct significantly worse in ATL; a promotion leaves it on the champion.',
      rows: [
        row('ORD', 0.06),
        row('ATL', -0.12, true),
        { ...row(hostile, 0), tested: false, estimate: null, low: null, high: null, adjustedPValue: null },
      ],
      pooled: { estimate: 0.05, low: 0.03, high: 0.07 },
    };
    const html = renderRolloutReportHtml({
      ...data(),
      analyses: [
        {
          seq: 1,
          at: '2026-11-22T10:01:00.000Z',
          stageIndex: 1,
          mode: 'final',
          decision: 'pass',
          action: 'promote',
          summary: '',
          samples: { champion: 20_000, challenger: 5000 },
          primary: null,
          guardrails: [],
          caps: [],
          segments,
        },
      ],
    });
    expect(html).toContain('<h2>Per-segment check: correct by segment</h2>');
    expect(html).toMatch(/fill="#b3261e">-12\.0% \[-15\.0%, -9\.0%\], adjusted p 0\.0010/);
    expect(html).toContain('all (stratified)');
    expect(html).toContain(`${escapeHtml(hostile)}</text>`);
    expect(html).toContain('too few samples (5000 / 600)');
    expect(renderRolloutReportHtml(data())).not.toContain('Per-segment check');
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
