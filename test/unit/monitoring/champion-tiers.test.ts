import { describe, expect, it } from 'vitest';
import {
  judgeChampion,
  transitionOf,
  worsening,
  type ChampionFigures,
  type CheckState,
  type Finding,
} from '../../../src/monitoring/champion-tiers.js';
import { parseMonitoringPolicy } from '../../../src/monitoring/policy.js';

const policy = parseMonitoringPolicy({}).champion;
const figures = (over: Partial<ChampionFigures> = {}): ChampionFigures => ({
  accuracy: { value: 0.9, n: 1000 },
  latency: { value: 100, n: 1000 },
  errorRate: { value: 0.001, n: 1000 },
  stability: { value: 0.9, n: 5000 },
  ...over,
});
const tiers = (f: Finding[]) => Object.fromEntries(f.map((x) => [x.check, x.tier]));

describe('the champion monitor tiers (the promotion guidelines defaults)', () => {
  it('has the seeds’ defaults', () => {
    expect(policy).toMatchObject({
      window: 3_600_000,
      accuracy: { metric: 'correct', direction: 'higher', warning: 0.01, critical: 0.03 },
      latency: { quantile: 0.95, warningMs: 750, criticalMs: 1000 },
      errorRate: { warning: 0.002, critical: 0.005 },
      stability: { window: 48 * 3_600_000, maxDrop: 0.01 },
      retrainOnCritical: true,
    });
  });

  it('judges each check against its warning and critical thresholds', () => {
    expect(tiers(judgeChampion(figures(), 0.9, policy))).toEqual({
      accuracy: 'ok',
      latency: 'ok',
      error_rate: 'ok',
      stability: 'ok',
    });
    // 0.9 → 0.89 is 1.1 % worse (warning); → 0.87 is 3.3 % worse (critical).
    expect(tiers(judgeChampion(figures({ accuracy: { value: 0.89, n: 1000 } }), 0.9, policy)).accuracy).toBe(
      'warning',
    );
    expect(tiers(judgeChampion(figures({ accuracy: { value: 0.87, n: 1000 } }), 0.9, policy)).accuracy).toBe(
      'critical',
    );
    expect(tiers(judgeChampion(figures({ latency: { value: 750, n: 1000 } }), 0.9, policy)).latency).toBe(
      'warning',
    );
    expect(tiers(judgeChampion(figures({ latency: { value: 1200, n: 1000 } }), 0.9, policy)).latency).toBe(
      'critical',
    );
    expect(
      tiers(judgeChampion(figures({ errorRate: { value: 0.003, n: 1000 } }), 0.9, policy)).error_rate,
    ).toBe('warning');
    expect(
      tiers(judgeChampion(figures({ errorRate: { value: 0.006, n: 1000 } }), 0.9, policy)).error_rate,
    ).toBe('critical');
    // The 48 h rule has one tier, whatever the size of the drop.
    expect(tiers(judgeChampion(figures({ stability: { value: 0.5, n: 5000 } }), 0.9, policy)).stability).toBe(
      'warning',
    );
  });

  it('does not judge on too few values or without a baseline', () => {
    const f = judgeChampion(
      figures({ accuracy: { value: 0.1, n: 10 }, latency: { value: 9999, n: 199 } }),
      null,
      policy,
    );
    expect(tiers(f)).toEqual({ accuracy: null, latency: null, error_rate: 'ok', stability: null });
    expect(f.find((x) => x.check === 'latency')!.reason).toBe('not judged: 199 latencies, fewer than 200');
    expect(f.find((x) => x.check === 'stability')!.reason).toBe('not judged: no baseline yet');
  });

  it('measures worsening in the metric’s direction, relative to the baseline', () => {
    expect(worsening(0.88, 0.9, 'higher')).toBeCloseTo(0.0222, 4);
    expect(worsening(0.92, 0.9, 'higher')).toBeLessThan(0);
    expect(worsening(5.5, 5, 'lower')).toBeCloseTo(0.1, 10);
    expect(worsening(1, 0, 'lower')).toBe(Infinity);
    expect(worsening(0, 0, 'lower')).toBe(0);
  });

  it('refuses thresholds in the wrong order, naming the field', () => {
    expect(() =>
      parseMonitoringPolicy({ champion: { accuracy: { warning: 0.05, critical: 0.01 } } }),
    ).toThrow(/monitoring\.champion\.accuracy/);
    expect(() => parseMonitoringPolicy({ champion: { latencyy: {} } })).toThrow(/latencyy/);
  });
});

describe('episodes: opened, escalated, eased, resolved, and nothing while a tier holds', () => {
  const ok: CheckState = { tier: 'ok', episode: null, peak: 'ok' };
  const finding = (tier: Finding['tier']): Finding => ({
    check: 'accuracy',
    tier,
    figure: 0.8,
    baseline: 0.9,
    threshold: 0.01,
    n: 500,
    reason: 'r',
  });

  it('walks warning → critical → warning → ok as one episode', () => {
    const opened = transitionOf(ok, finding('warning'), 'run-1')!;
    expect(opened).toMatchObject({ kind: 'opened', tier: 'warning', episode: 'run-1', peak: 'warning' });
    const s1: CheckState = { tier: 'warning', episode: 'run-1', peak: 'warning' };
    expect(transitionOf(s1, finding('warning'), 'run-2')).toBeNull(); // de-duplicated while it holds
    expect(transitionOf(s1, finding(null), 'run-2')).toBeNull(); // silence changes nothing
    const up = transitionOf(s1, finding('critical'), 'run-3')!;
    expect(up).toMatchObject({ kind: 'escalated', tier: 'critical', episode: 'run-1', peak: 'critical' });
    const s2: CheckState = { tier: 'critical', episode: 'run-1', peak: 'critical' };
    expect(transitionOf(s2, finding('warning'), 'run-4')).toMatchObject({
      kind: 'eased',
      episode: 'run-1',
      peak: 'critical',
    });
    expect(transitionOf(s2, finding('ok'), 'run-5')).toMatchObject({
      kind: 'resolved',
      tier: 'ok',
      episode: 'run-1',
      peak: 'critical',
    });
    expect(transitionOf(ok, finding('ok'), 'run-6')).toBeNull();
  });
});
