import { binLowerEdge, binOf, binUpperEdge } from '../../src/ingest/histogram.js';
import type { MomentBin } from '../../src/stats/capping.js';

/** The bins ingestion keeps for these values (src/ingest/histogram.ts), with their sums of powers, computed directly. */
export function momentBinsOf(values: readonly number[]): MomentBin[] {
  const bins = new Map<string, MomentBin>();
  for (const v of values) {
    const key = binOf(v);
    const b = bins.get(key) ?? {
      lower: binLowerEdge(key),
      upper: binUpperEdge(key),
      count: 0,
      sum: 0,
      sumSq: 0,
      sumCubes: 0,
    };
    b.count += 1;
    b.sum += v;
    b.sumSq += v * v;
    b.sumCubes += v * v * v;
    bins.set(key, b);
  }
  return [...bins.values()];
}
