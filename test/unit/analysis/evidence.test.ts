import { describe, expect, it } from 'vitest';
import { buildEvidence, requestSamples, srmInputs } from '../../../src/analysis/evidence.js';
import type { FiguresByMetric, SourceFigures } from '../../../src/analysis/metric-source.js';
import type { Period } from '../../../src/analysis/periods.js';
import { binOf, binValue } from '../../../src/ingest/histogram.js';

const s = (n: number, mean: number, variance = 1) => ({ n, mean, variance });
const fig = (summary: SourceFigures['summary'], more: Partial<SourceFigures> = {}): SourceFigures => ({
  summary,
  ...more,
});
const canary = (champion: FiguresByMetric, challenger: FiguresByMetric, weight: number): Period => ({
  champion: { figures: champion, weight: 1 - weight },
  challenger: { figures: challenger, weight },
  paired: false,
});

describe('buildEvidence: hand-made figures to the gate’s evidence', () => {
  it('compares a shadow period pairwise on the per-request differences', () => {
    const shadow: Period = {
      champion: { figures: { abs_error: fig(s(100, 2, 1)) }, weight: 1 },
      challenger: { figures: { abs_error: fig(s(100, 1.8, 1), { paired: s(100, -0.2, 0.5) }) }, weight: 1 },
      paired: true,
    };
    // A later canary stage does not dilute the paired comparison: same requests beat independent arms.
    const later = canary({ abs_error: fig(s(50, 2)) }, { abs_error: fig(s(50, 3)) }, 0.5);
    const { metrics, srm } = buildEvidence([shadow, later], []);
    expect(metrics.abs_error).toEqual({
      kind: 'paired',
      difference: { n: 100, mean: -0.2, variance: 0.5 },
      champion: { n: 100, mean: 2, variance: 1 },
      challenger: { n: 100, mean: 1.8, variance: 1 },
    });
    // Shadow scores every request on both versions: no traffic split, so no sample-ratio check for it.
    expect(srm).toEqual([]);
  });

  it('falls back to independent arms when the shadow period holds no paired values', () => {
    const shadow: Period = {
      champion: { figures: { abs_error: fig(s(10, 2)) }, weight: 1 },
      challenger: { figures: { abs_error: fig(s(10, 1), { paired: s(0, 0, 0) }) }, weight: 1 },
      paired: true,
    };
    expect(buildEvidence([shadow], []).metrics.abs_error).toEqual({
      kind: 'independent',
      strata: [{ champion: s(10, 2), challenger: s(10, 1) }],
    });
  });

  it('keeps one stratum per canary stage, only where both arms recorded the metric', () => {
    const stage1 = canary({ abs_error: fig(s(950, 2)) }, { abs_error: fig(s(50, 1.9)) }, 0.05);
    const stage2 = canary(
      { abs_error: fig(s(500, 2.1)), ape: fig(s(500, 0.1)) },
      { abs_error: fig(s(480, 1.8)) },
      0.5,
    );
    const { metrics, recorded } = buildEvidence([stage1, stage2], []);
    expect(metrics.abs_error).toEqual({
      kind: 'independent',
      strata: [
        { champion: s(950, 2), challenger: s(50, 1.9) },
        { champion: s(500, 2.1), challenger: s(480, 1.8) },
      ],
    });
    // Recorded by the champion only: known (so guardrails on it run) but no comparison to make.
    expect(recorded).toEqual(new Set(['abs_error', 'ape']));
    expect(metrics.ape).toBeUndefined();
  });

  it('gives proportions as counts (successes out of n), other metrics as summaries', () => {
    const stage = canary(
      { error: fig(s(200, 0.015, 0.0148)), correct: fig(s(40, 0.75, 0.19)), abs_error: fig(s(40, 1.5)) },
      // 0.3333… · 30 = 9.99…: rounded to the 10 errors it came from.
      { error: fig(s(30, 1 / 3, 0.22)), correct: fig(s(8, 0.5, 0.25)), abs_error: fig(s(8, 1.2)) },
      0.1,
    );
    const { metrics } = buildEvidence([stage], []);
    expect(metrics.error).toEqual({
      kind: 'independent',
      strata: [{ champion: { successes: 3, n: 200 }, challenger: { successes: 10, n: 30 } }],
    });
    expect(metrics.correct).toEqual({
      kind: 'independent',
      strata: [{ champion: { successes: 30, n: 40 }, challenger: { successes: 4, n: 8 } }],
    });
    expect(metrics.abs_error).toEqual({
      kind: 'independent',
      strata: [{ champion: s(40, 1.5), challenger: s(8, 1.2) }],
    });
  });

  it('names quantile guardrails metric@qQ and takes the quantile of histograms merged over periods', () => {
    const h = (value: number, count: number) => ({ [binOf(value)]: count });
    const stage1 = canary(
      { latency_ms: fig(s(10, 100), { histogram: h(100, 10) }) },
      { latency_ms: fig(s(4, 300), { histogram: h(300, 4) }) },
      0.05,
    );
    const stage2 = canary(
      { latency_ms: fig(s(10, 200), { histogram: h(200, 10) }) },
      { latency_ms: fig(s(16, 100), { histogram: h(100, 16) }) },
      0.5,
    );
    const { metrics } = buildEvidence(
      [stage1, stage2],
      [
        { metric: 'latency_ms', quantile: 0.95 },
        { metric: 'latency_ms' },
        { metric: 'memory_mb', quantile: 0.5 },
      ],
    );
    // Champion: 10 × 100 ms, 10 × 200 ms; rank ⌊0.95 · 19⌋ = 18 lies among the 200 ms.
    // Challenger: 16 × 100 ms, 4 × 300 ms; rank 18 lies among the 300 ms.
    expect(metrics['latency_ms@q0.95']).toEqual({
      kind: 'quantile',
      quantile: 0.95,
      champion: { n: 20, value: binValue(binOf(200)) },
      challenger: { n: 20, value: binValue(binOf(300)) },
    });
    // The plain metric keeps its own independent evidence; a quantile of an unrecorded metric has none.
    expect(metrics.latency_ms?.kind).toBe('independent');
    expect(Object.keys(metrics).sort()).toEqual(['latency_ms', 'latency_ms@q0.95']);
  });

  it('leaves a quantile out when one side has no histogram', () => {
    const stage = canary(
      { latency_ms: fig(s(10, 100), { histogram: { [binOf(100)]: 10 } }) },
      { latency_ms: fig(s(10, 100)) },
      0.5,
    );
    expect(buildEvidence([stage], [{ metric: 'latency_ms', quantile: 0.99 }]).metrics).not.toHaveProperty(
      'latency_ms@q0.99',
    );
  });
});

describe('sample-ratio inputs and sample sizes come from the request count (error’s n)', () => {
  // Latency and outcome metrics count fewer (or other) observations than requests: only `error` counts them.
  const stage = (champion: number, challenger: number, weight: number): Period =>
    canary(
      { error: fig(s(champion, 0)), latency_ms: fig(s(champion * 2, 20)), abs_error: fig(s(7, 1)) },
      { error: fig(s(challenger, 0)), latency_ms: fig(s(3, 20)) },
      weight,
    );

  it('checks every split period on the requests each arm served', () => {
    const periods = [stage(950, 50, 0.05), stage(520, 480, 0.5)];
    expect(srmInputs(periods)).toEqual([
      { observed: [950, 50], expectedWeights: [0.95, 0.05] },
      { observed: [520, 480], expectedWeights: [0.5, 0.5] },
    ]);
    expect(requestSamples(periods)).toEqual({ champion: 1470, challenger: 530 });
  });

  it('skips shadow periods, periods without a split and periods without requests', () => {
    const shadow: Period = { ...stage(100, 100, 0.5), paired: true };
    const selfBaseline: Period = {
      champion: { figures: { error: fig(s(300, 0)) }, weight: 0 },
      challenger: { figures: { error: fig(s(100, 0)) }, weight: 0 },
      paired: false,
    };
    const empty = canary({ latency_ms: fig(s(5, 20)) }, {}, 0.05);
    expect(srmInputs([shadow, selfBaseline, empty])).toEqual([]);
    // Sample sizes still count every period's requests.
    expect(requestSamples([shadow, selfBaseline, empty])).toEqual({ champion: 400, challenger: 200 });
    expect(buildEvidence([shadow, selfBaseline, empty], []).srm).toEqual([]);
  });
});
