import { describe, expect, it } from 'vitest';
import { formatEvent, renderPanel, renderStatus } from '../../../src/cli/rollout-view.js';
import type { RolloutStatus } from '../../../src/rollout/types.js';
import { evaluateGate, independent, quantiles, type GatePolicy } from '../../../src/stats/index.js';

const POLICY: GatePolicy = {
  primaryMetric: {
    name: 'abs_error',
    direction: 'lower',
    minImprovement: 0.02,
    rollbackRelativeDegradation: 0.05,
  },
  guardrails: [
    { metric: 'error', max: 0.01, rollbackAbove: 0.05 },
    { metric: 'latency_ms@q0.95', quantile: 0.95, max: 500, rollbackRelativeIncrease: 1.0 },
  ],
  analysis: { alpha: 0.05, minSamples: 100, tuningN: 2000 },
};

function status(details: unknown): RolloutStatus {
  return {
    rolloutId: 'r-1',
    model: 'seattle-temp',
    champion: '1.0.0',
    challenger: '1.1.0',
    state: 'canary',
    paused: false,
    stage: {
      index: 1,
      mode: 'canary',
      weightBp: 500,
      startedAt: '2026-11-22T10:00:00.000Z',
      endsAt: '2026-11-22T10:00:08.000Z',
    },
    lastAnalysis: {
      seq: 7,
      at: '2026-11-22T10:00:05.000Z',
      stageIndex: 1,
      mode: 'canary',
      decision: 'inconclusive',
      action: 'continue',
      reasons: [],
      summary: 'still collecting',
      samples: { champion: 4000, challenger: 210 },
      details,
    },
    decision: null,
    approvals: [{ by: 'demo-approver', comment: 'ok', at: '2026-11-22T09:59:00.000Z' }],
    events: [
      {
        seq: 1,
        type: 'transition',
        from: 'proposed',
        to: 'awaiting_approval',
        actor: 'arena',
        reason: null,
        at: '2026-11-22T09:58:00.000Z',
      },
      {
        seq: 2,
        type: 'approval',
        from: 'awaiting_approval',
        to: 'awaiting_approval',
        actor: 'demo-approver',
        reason: 'ok',
        at: '2026-11-22T09:59:00.000Z',
      },
    ],
  };
}

describe('rollout live view', () => {
  it('shows both arms of the primary metric with its interval and every guardrail against its limits', () => {
    const gate = evaluateGate(
      {
        metrics: {
          abs_error: independent({ n: 4000, mean: 3.3, variance: 6 }, { n: 210, mean: 2.5, variance: 4 }),
          error: independent({ successes: 0, n: 4000 }, { successes: 17, n: 210 }),
          'latency_ms@q0.95': quantiles(0.95, { n: 4000, value: 47.9 }, { n: 210, value: 143.2 }),
        },
      },
      POLICY,
    );
    const panel = renderPanel(status(JSON.parse(JSON.stringify(gate))));
    expect(panel).toContain('stage   2: canary — 5% challenger, 95% champion');
    expect(panel).toContain('samples champion 4000, challenger 210');
    const primary = panel.split('\n').find((l) => l.startsWith('primary abs_error'))!;
    expect(primary).toMatch(/champion 3\.300, challenger 2\.500 → 24\.\d% better, 95% interval \[[+-]\d/);
    expect(primary).toContain('needs ≥ 2.00%');
    // Rates read as percentages; quantile guardrails show the observed values and the absolute limit.
    expect(panel).toMatch(
      /guard {3}error: champion 0\.00%, challenger 8\.1\d%.*rollbackAbove 5\.00%\): fail/,
    );
    expect(panel).toMatch(
      /guard {3}latency_ms@q0\.95: champion 47\.900, challenger 143\.2 \(max 500\.0, rollbackRelativeIncrease 100\.0%\)/,
    );
    expect(panel).toContain('approvals demo-approver ("ok")');
  });

  it('shows the fixed-horizon two-proportion z-test under an accuracy primary metric', () => {
    const gate = evaluateGate(
      { metrics: { correct: independent({ successes: 470, n: 500 }, { successes: 480, n: 500 }) } },
      {
        primaryMetric: { name: 'correct', direction: 'higher', minImprovement: 0 },
        guardrails: [],
        analysis: { alpha: 0.05, minSamples: 100, tuningN: 1000 },
      },
    );
    const panel = renderPanel(status(JSON.parse(JSON.stringify(gate))));
    expect(panel).toContain(
      'fixed-horizon two-proportion z-test (pooled, not deciding): z = 1.45, p = 0.147',
    );
  });

  it('shows the per-segment verdicts, the worse ones marked', () => {
    const counts = (successes: number, n: number) => ({ successes, n });
    const gate = evaluateGate(
      {
        metrics: { correct: independent(counts(80_000, 100_000), counts(84_000, 100_000)) },
        segments: [
          { segment: 'ORD', evidence: independent(counts(40_000, 50_000), counts(44_000, 50_000)) },
          { segment: 'ATL', evidence: independent(counts(8000, 10_000), counts(7000, 10_000)) },
          { segment: 'SMF', evidence: independent(counts(40, 50), counts(41, 50)) },
        ],
      },
      {
        primaryMetric: { name: 'correct', direction: 'higher', minImprovement: 0 },
        guardrails: [],
        analysis: { alpha: 0.05, minSamples: 100, tuningN: 1000 },
        segmentCheck: { metric: 'correct', direction: 'higher', minSamples: 1000, onWorse: 'block' },
      },
    );
    const lines = renderPanel(status(JSON.parse(JSON.stringify(gate)))).split('\n');
    expect(lines).toContain('segment correct by segment (block on worse): fail');
    expect(lines.find((l) => l.includes('ATL'))).toMatch(
      /ATL\s+n 10000\/10000\s+-12\.5% \[.*\]\s+adj\. p .*WORSE$/,
    );
    expect(lines.find((l) => l.includes('ORD'))).not.toMatch(/WORSE/);
    expect(lines.find((l) => l.includes('SMF'))).toMatch(/too few samples$/);
  });

  it('falls back to the stored primary estimate when an analysis carries no gate details', () => {
    const s = status(undefined);
    s.lastAnalysis!.primary = { metric: 'abs_error', estimate: 0.2, ci: [0.1, 0.3], pValue: 0.001 };
    expect(renderPanel(s)).toContain('primary abs_error: 0.200 [0.100, 0.300] p=0.00100');
    expect(renderPanel(s)).not.toContain('guard');
  });

  it('prints the trail of events with actors and reasons', () => {
    const s = status(undefined);
    expect(formatEvent(s.events[1]!)).toBe('#2 09:59:00 approval by demo-approver: ok');
    expect(formatEvent(s.events[0]!)).toBe('#1 09:58:00 transition → awaiting_approval by arena');
    expect(renderStatus(s)).toMatch(/events\n {2}#1 09:58:00 transition/);
  });
});
