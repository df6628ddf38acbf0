import { describe, expect, it } from 'vitest';
import { analyze } from '../../../src/analysis/analyze.js';
import type { AnalyzeInput } from '../../../src/analysis/analyze-input.js';
import type { FigureQuery, FiguresByVersion, MetricSource } from '../../../src/analysis/metric-source.js';
import { readPeriods, settledFrom } from '../../../src/analysis/periods.js';
import { binOf } from '../../../src/ingest/histogram.js';
import { parsePolicy } from '../../../src/policy/policy.js';
import type { GateResult } from '../../../src/stats/gate/index.js';

/** A metric source answering from a table by role, recording what it was asked. */
function fakeSource(byRole: Record<FigureQuery['role'], FiguresByVersion>): MetricSource & {
  queries: FigureQuery[];
} {
  const queries: FigureQuery[] = [];
  return {
    queries,
    figures: async (q) => {
      queries.push(q);
      return Object.fromEntries(q.versions.map((v) => [v, byRole[q.role][v] ?? {}]));
    },
  };
}

const t0 = '2026-01-01T12:00:00.000Z';
const t1 = '2026-01-01T13:00:00.000Z';
const t2 = '2026-01-01T14:00:00.000Z';
const policy = parsePolicy({
  stages: [
    { mode: 'shadow', duration: '1h' },
    { mode: 'canary', weight: 5, duration: '1h' },
  ],
  watch: { holdback: 0 },
});
const input = (over: Partial<AnalyzeInput>): AnalyzeInput => ({
  tenantId: 'acme',
  rolloutId: 'r1',
  seq: 7,
  stageIndex: 1,
  mode: 'canary',
  model: 'm',
  champion: '1.0.0',
  challenger: '1.1.0',
  windows: [],
  policy,
  ...over,
});
const s = (n: number, mean: number, variance = 1) => ({ summary: { n, mean, variance } });

describe('settledFrom: a split window starts once routers have picked up its split', () => {
  const at = Date.parse(t0);
  const of = (p: unknown, index: number, mode: 'shadow' | 'canary' = 'canary') =>
    settledFrom({ policy: parsePolicy(p as never) }, { index, from: t0, to: t1, mode }) - at;
  const stages = [
    { mode: 'shadow', duration: '1h' },
    { mode: 'canary', weight: 5, duration: '1h' },
    { mode: 'canary', weight: 50, duration: '2s' },
  ];

  it('starts a canary window’s count routingSettle in, at most a quarter of its planned length; never a shadow one', () => {
    expect(of({ stages }, 1)).toBe(30_000); // the default
    expect(of({ stages, analysis: { routingSettle: '5s' } }, 1)).toBe(5_000);
    expect(of({ stages }, 2)).toBe(500); // a 2 s stage keeps three quarters of itself
    expect(of({ stages }, 0, 'shadow')).toBe(0);
    expect(of({ stages, analysis: { routingSettle: 0 } }, 1)).toBe(0);
    // The watch window (index past the stages) by the watch's length.
    expect(of({ stages, watch: { duration: '8s', holdback: 10 } }, 3)).toBe(2_000);
  });

  it('leaves windows of rollouts whose policy predates the setting where they were', () => {
    const old = parsePolicy({ stages } as never);
    const { routingSettle: _dropped, ...analysis } = old.analysis;
    const policy = { ...old, analysis } as unknown as AnalyzeInput['policy'];
    expect(settledFrom({ policy }, { index: 1, from: t0, to: t1, mode: 'canary' })).toBe(at);
  });

  it('refuses a settle that is not a duration, or longer than an hour, naming the field', () => {
    expect(() => parsePolicy({ analysis: { routingSettle: 'soon' } } as never)).toThrow(
      /policy\.analysis\.routingSettle/,
    );
    expect(() => parsePolicy({ analysis: { routingSettle: '2h' } } as never)).toThrow(/at most 1h/);
  });
});

describe('readPeriods: what each mode asks of the metric source', () => {
  it('reads a shadow window as served champion against shadow challenger, a canary window by its weight', async () => {
    const source = fakeSource({
      served: { '1.0.0': { error: s(950, 0) }, '1.1.0': { error: s(50, 0) } },
      shadow: { '1.1.0': { error: s(900, 0) } },
    });
    const periods = await readPeriods(
      source,
      input({
        windows: [
          { index: 0, from: t0, to: t1, mode: 'shadow' },
          { index: 1, from: t1, to: t2, mode: 'canary' },
        ],
      }),
    );
    // Bins are read only for what uses them: the default policy's p95 latency guardrail. The canary window's
    // requests are counted for the sample-ratio check again, without bins, from when routers have settled
    // on its split (routingSettle, 30 s by default).
    const window = { tenantId: 'acme', model: 'm', histograms: ['latency_ms'], moments: [] };
    const settled = new Date(Date.parse(t1) + 30_000);
    expect(source.queries).toEqual([
      { ...window, from: new Date(t0), to: new Date(t1), versions: ['1.0.0'], role: 'served' },
      { ...window, from: new Date(t0), to: new Date(t1), versions: ['1.1.0'], role: 'shadow' },
      { ...window, from: new Date(t1), to: new Date(t2), versions: ['1.0.0', '1.1.0'], role: 'served' },
      {
        ...window,
        histograms: [],
        metrics: ['error'], // the request count: what the sample-ratio check needs
        from: settled,
        to: new Date(t2),
        versions: ['1.0.0', '1.1.0'],
        role: 'served',
      },
    ]);
    expect(periods.map((p) => [p.paired, p.champion.weight, p.challenger.weight])).toEqual([
      [true, 1, 1],
      [false, 0.95, 0.05],
    ]);
    expect(periods[0]!.challenger.figures).toEqual({ error: s(900, 0) });
  });

  it('compares the promoted version with itself before and after promotion when the watch has no holdback', async () => {
    const source = fakeSource({ served: { '1.1.0': { error: s(10, 0) } }, shadow: {} });
    const periods = await readPeriods(
      source,
      input({
        mode: 'watch',
        stageIndex: 2,
        windows: [
          { index: 1, from: t0, to: t1, mode: 'canary' },
          { index: 2, from: t1, to: t2, mode: 'canary' },
        ],
      }),
    );
    expect(source.queries.map((q) => [q.versions, q.role, q.from.toISOString()])).toEqual([
      [['1.1.0'], 'served', t0],
      [['1.1.0'], 'served', t1],
    ]);
    expect(periods).toEqual([
      {
        champion: { figures: { error: s(10, 0) }, weight: 0 },
        challenger: { figures: { error: s(10, 0) }, weight: 0 },
        paired: false,
      },
    ]);
  });
});

describe('readPeriods in the watch', () => {
  it('after a shadow-only rollout, compares the new champion with its own shadow scores before promotion', async () => {
    const source = fakeSource({
      served: { '1.1.0': { error: s(10, 0) } },
      shadow: { '1.1.0': { error: s(20, 0) } },
    });
    const periods = await readPeriods(
      source,
      input({
        mode: 'watch',
        stageIndex: 1,
        windows: [
          { index: 0, from: t0, to: t1, mode: 'shadow' },
          { index: 2, from: t1, to: t2, mode: 'canary' },
        ],
      }),
    );
    expect(source.queries.map((q) => [q.versions, q.role])).toEqual([
      [['1.1.0'], 'shadow'],
      [['1.1.0'], 'served'],
    ]);
    expect([periods[0]!.champion.figures, periods[0]!.challenger.figures]).toEqual([
      { error: s(20, 0) },
      { error: s(10, 0) },
    ]);
  });

  it('with a holdback, expects the previous champion (the champion arm) to keep only the holdback', async () => {
    const source = fakeSource({ served: {}, shadow: {} });
    const periods = await readPeriods(
      source,
      input({
        mode: 'watch',
        champion: '1.0.0',
        challenger: '1.1.0',
        policy: parsePolicy({
          stages: [{ mode: 'canary', weight: 50, duration: '1h' }],
          watch: { holdback: 10 },
        }),
        windows: [{ index: 1, from: t1, to: t2, mode: 'canary' }],
      }),
    );
    expect(periods[0]!.champion.weight).toBeCloseTo(0.1, 12);
    expect(periods[0]!.challenger.weight).toBeCloseTo(0.9, 12);
  });
});

describe('analyze: a verdict from any metric source', () => {
  it('judges the evidence, names quantile guardrails as the evidence does and reports unrecorded ones', async () => {
    const latency = (ms: number, n: number) => ({ ...s(n, ms), histogram: { [binOf(ms)]: n } });
    const source = fakeSource({
      served: {
        '1.0.0': { error: s(1900, 0, 0), abs_error: s(1900, 2), latency_ms: latency(20, 1900) },
        '1.1.0': { error: s(100, 0, 0), abs_error: s(100, 2), latency_ms: latency(20, 100) },
      },
      shadow: {},
    });
    const at = new Date('2026-01-01T13:30:00.000Z');
    const verdict = await analyze(
      input({ windows: [{ index: 1, from: t1, to: t2, mode: 'canary' }] }),
      source,
      () => at,
    );
    expect(verdict).toMatchObject({
      seq: 7,
      at: at.toISOString(),
      stageIndex: 1,
      mode: 'canary',
      samples: { champion: 1900, challenger: 100 },
    });
    // The default policy guards memory_mb, which nothing recorded: skipped, and said so.
    expect(verdict.reasons.at(-1)).toBe('not recorded, so not checked: memory_mb');
    const gate = verdict.details as GateResult;
    expect(gate.guardrails.map((g) => g.metric)).toEqual(['error', 'latency_ms@q0.95']);
    expect(gate.srm).toBeDefined();
  });

  it('counts the split from when routers settled: a stale router’s champion-only start is no mismatch', async () => {
    // The whole window: 50 % planned, but the first seconds all went to the champion (600 against 400).
    // Counted from the settle on: 400 against 400.
    const whole = { '1.0.0': { error: s(600, 0, 0) }, '1.1.0': { error: s(400, 0, 0) } };
    const settled = { '1.0.0': { error: s(400, 0, 0) }, '1.1.0': { error: s(400, 0, 0) } };
    const source: MetricSource = {
      figures: async (q) => (q.from.getTime() > Date.parse(t1) ? settled : whole),
    };
    const half = parsePolicy({
      stages: [{ mode: 'canary', weight: 50, duration: '1h' }],
      analysis: { minSamples: 100 },
      guardrails: [{ metric: 'error', max: 0.01 }],
    });
    const at = () => new Date(t2);
    const windows: AnalyzeInput['windows'] = [{ index: 0, from: t1, to: t2, mode: 'canary' }];
    const verdict = await analyze(input({ stageIndex: 0, windows, policy: half }), source, at);
    expect((verdict.details as GateResult).srm).toMatchObject({ observed: [400, 400], mismatch: false });
    // Metrics keep every request: the guardrail judged 1,000.
    expect(verdict.samples).toEqual({ champion: 600, challenger: 400 });
    const unsettled = parsePolicy({ ...half, analysis: { minSamples: 100, routingSettle: 0 } } as never);
    const before = await analyze(input({ stageIndex: 0, windows, policy: unsettled }), source, at);
    expect(before).toMatchObject({ decision: 'invalid', action: 'pause' });
  });
});
