import type { Knex } from 'knex';
import { readVersionMetrics } from '../analysis/rollup-reader.js';
import { getRouting } from '../routing/store.js';
import { pairedDifferenceTest } from '../stats/index.js';
import type { ExperimentSegment, SegmentResult } from './types.js';

/**
 * Shadow-test results of each segment from rollups only: the challenger's shadow predictions paired with
 * the champion's served ones on the same requests (the paired differences the recorder keeps).
 */
export async function measureSegments(
  knex: Knex,
  args: { tenantId: string; segments: ExperimentSegment[]; since: Date; metric?: string },
): Promise<SegmentResult[]> {
  const metric = args.metric ?? 'abs_error';
  return Promise.all(
    args.segments.map(async (s) => {
      const routing = await getRouting(knex, s.model, args.tenantId);
      const versions = [s.challenger, ...(routing.champion ? [routing.champion] : [])];
      const figures = await readVersionMetrics(knex, {
        tenantId: args.tenantId,
        model: s.model,
        versions,
        from: args.since,
        histograms: false,
      });
      const shadow = (
        await readVersionMetrics(knex, {
          tenantId: args.tenantId,
          model: s.model,
          versions: [s.challenger],
          role: 'shadow',
          from: args.since,
          histograms: false,
        })
      )[s.challenger]?.[metric];
      const champ = routing.champion ? figures[routing.champion]?.[metric]?.summary : undefined;
      const d = shadow?.paired;
      const base = {
        segment: s.segment,
        model: s.model,
        champion: routing.champion,
        challenger: s.challenger,
        metric,
      };
      if (!d || d.n < 2)
        return { ...base, n: d?.n ?? 0, meanDifference: null, ci: null, pValue: null, relative: null };
      const t = pairedDifferenceTest(d);
      return {
        ...base,
        n: d.n,
        meanDifference: d.mean,
        ci: t.ci,
        pValue: t.pValue,
        relative: champ && champ.mean !== 0 ? d.mean / champ.mean : null,
      };
    }),
  );
}
