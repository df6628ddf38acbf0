import { describe, expect, it } from 'vitest';
import { analyze } from '../../../src/analysis/analyze.js';
import type { AnalyzeInput } from '../../../src/analysis/analyze-input.js';
import { capPeriods } from '../../../src/analysis/capping.js';
import type {
  FigureQuery,
  FiguresByVersion,
  MetricSource,
  SourceFigures,
} from '../../../src/analysis/metric-source.js';
import { readPeriods } from '../../../src/analysis/periods.js';
import {
  addToHistogram,
  binLowerEdge,
  binOf,
  binUpperEdge,
  type Histogram,
  type HistogramMoments,
} from '../../../src/ingest/histogram.js';
import { parsePolicy, type PolicyInput } from '../../../src/policy/policy.js';
import { capAtQuantile, cappedSummary, type MomentBin } from '../../../src/stats/capping.js';
import { createRng, summarize } from '../../../src/stats/index.js';

/** What ingestion keeps for these values: the summary, the histogram and each bin's sums of powers. */
function figuresOf(values: readonly number[], withMoments = true): SourceFigures {
  const histogram: Histogram = {};
  const moments: HistogramMoments = {};
  for (const v of values) {
    addToHistogram(histogram, v);
    const m = (moments[binOf(v)] ??= [0, 0, 0]);
    m[0] += v;
    m[1] += v * v;
    m[2] += v * v * v;
  }
  return { summary: summarize(values), histogram, ...(withMoments ? { histogramMoments: moments } : {}) };
}

function binsOf(f: SourceFigures): MomentBin[] {
  return Object.entries(f.histogram!).map(([bin, count]) => {
    const [sum, sumSq, sumCubes] = f.histogramMoments![bin]!;
    return { lower: binLowerEdge(bin), upper: binUpperEdge(bin), count, sum, sumSq, sumCubes };
  });
}

const lognormal = (seed: number, n: number, scale = 1): number[] => {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => scale * Math.exp(2 * rng.normal()));
};

const stageStart = '2026-01-08T00:00:00.000Z';
const stageEnd = '2026-01-09T00:00:00.000Z';

/** A source with a champion history before the stage and both arms within it; records its queries. */
function source(history: SourceFigures | undefined, champion: SourceFigures, challenger: SourceFigures) {
  const queries: FigureQuery[] = [];
  const s: MetricSource = {
    figures: async (q): Promise<FiguresByVersion> => {
      queries.push(q);
      if (q.to.getTime() === new Date(stageStart).getTime())
        return history ? { '1.0.0': { abs_error: history } } : {};
      return { '1.0.0': { abs_error: champion }, '1.1.0': { abs_error: challenger } };
    },
  };
  return { source: s, queries };
}

function input(primary: PolicyInput['primaryMetric'], over: Partial<AnalyzeInput> = {}): AnalyzeInput {
  return {
    tenantId: 'acme',
    rolloutId: 'r1',
    seq: 3,
    stageIndex: 0,
    mode: 'canary',
    model: 'm',
    champion: '1.0.0',
    challenger: '1.1.0',
    windows: [{ index: 0, from: stageStart, to: stageEnd, mode: 'canary' }],
    policy: parsePolicy({
      stages: [{ mode: 'canary', weight: 50, duration: '1d' }],
      primaryMetric: primary,
      guardrails: [],
    }),
    ...over,
  };
}

describe('capping a primary metric in canary stages', () => {
  const history = figuresOf(lognormal(1, 20_000));
  const champion = figuresOf(lognormal(2, 5_000));
  const challenger = figuresOf(lognormal(3, 5_000, 0.9));

  it('sets the cap from the champion’s history before the stage and caps both arms at it', async () => {
    const { source: s, queries } = source(history, champion, challenger);
    const i = input({ name: 'abs_error', direction: 'lower', cap: { quantile: 0.999, lookback: '7d' } });
    const { periods, caps } = await capPeriods(s, i, await readPeriods(s, i));
    const cap = capAtQuantile(binsOf(history), 0.999)!;
    expect(caps).toEqual([
      {
        metric: 'abs_error',
        stageIndex: 0,
        cap,
        quantile: 0.999,
        basis: { from: '2026-01-01T00:00:00.000Z', to: stageStart, n: 20_000 },
        note: expect.stringMatching(
          /^abs_error capped at [\d,.]+ in stage 1: the champion’s p99.9 over the 7d before the stage \(20,000 values\)\.$/,
        ),
      },
    ]);
    // The history query is the champion's served values over the lookback, ending where the stage starts.
    expect(queries).toContainEqual(
      expect.objectContaining({
        versions: ['1.0.0'],
        role: 'served',
        from: new Date('2026-01-01T00:00:00.000Z'),
        to: new Date(stageStart),
      }),
    );
    expect(periods[0]!.champion.figures.abs_error!.summary).toEqual(cappedSummary(binsOf(champion), cap));
    expect(periods[0]!.challenger.figures.abs_error!.summary).toEqual(cappedSummary(binsOf(challenger), cap));
    expect(periods[0]!.challenger.figures.abs_error!.summary.mean).toBeLessThan(challenger.summary.mean);
  });

  it('takes a fixed cap to its bin edge', async () => {
    const { source: s } = source(undefined, champion, challenger);
    const i = input({ name: 'abs_error', direction: 'lower', cap: { value: 100 } });
    const { caps, periods } = await capPeriods(s, i, await readPeriods(s, i));
    const edge = binUpperEdge(binOf(100));
    expect(edge).toBeGreaterThanOrEqual(100);
    expect(edge).toBeLessThan(101);
    expect(caps[0]).toMatchObject({ cap: edge, note: expect.stringContaining('the policy’s 100') });
    expect(periods[0]!.champion.figures.abs_error!.summary).toEqual(cappedSummary(binsOf(champion), edge));
  });

  it('compares uncapped, and says why, when the history is short or was recorded without bin sums', async () => {
    const cases: Array<[SourceFigures | undefined, SourceFigures, RegExp]> = [
      [undefined, champion, /recorded no values in the 7d before the stage/],
      [figuresOf(lognormal(4, 10)), champion, /recorded 10 values .* fewer than minSamples \(1000\)/],
      [figuresOf(lognormal(1, 20_000), false), champion, /history was recorded without bin sums/],
      [history, figuresOf(lognormal(2, 5_000), false), /stage’s values were recorded without bin sums/],
    ];
    for (const [h, c, why] of cases) {
      const { source: s } = source(h, c, challenger);
      const i = input({ name: 'abs_error', direction: 'lower', cap: { quantile: 0.999 } });
      const before = await readPeriods(s, i);
      const { caps, periods } = await capPeriods(s, i, before);
      expect(caps[0]!.cap).toBeNull();
      expect(caps[0]!.note).toMatch(why);
      expect(caps[0]!.note).toMatch(/compared uncapped\.$/);
      expect(periods).toEqual(before);
    }
  });

  it('caps neither shadow windows nor the watch, and does nothing without a cap in the policy', async () => {
    const { source: s } = source(history, champion, challenger);
    const capped = { name: 'abs_error', direction: 'lower' as const, cap: { quantile: 0.999 } };
    const shadow = input(capped, { windows: [{ index: 0, from: stageStart, to: stageEnd, mode: 'shadow' }] });
    expect((await capPeriods(s, shadow, await readPeriods(s, shadow))).caps).toEqual([]);
    const watch = input(capped, { mode: 'watch' });
    expect((await capPeriods(s, watch, await readPeriods(s, watch))).caps).toEqual([]);
    const plain = input({ name: 'abs_error', direction: 'lower' });
    expect((await capPeriods(s, plain, await readPeriods(s, plain))).caps).toEqual([]);
  });

  it('records the caps with the analysis and adds their notes to its reasons', async () => {
    const { source: s } = source(history, champion, challenger);
    const verdict = await analyze(
      input({ name: 'abs_error', direction: 'lower', cap: { quantile: 0.999 } }),
      s,
      () => new Date(stageEnd),
    );
    expect(verdict.caps).toHaveLength(1);
    expect(verdict.reasons).toContain(verdict.caps![0]!.note);
  });
});
