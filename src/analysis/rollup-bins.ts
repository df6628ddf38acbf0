import type { Knex } from 'knex';
import type { Histogram, HistogramMoments } from '../ingest/histogram.js';

/** How the reader keys one metric of one version. */
export const figureKey = (version: string, metric: string): string => `${version}\u0000${metric}`;

interface CountRow {
  version: string;
  metric: string;
  bin: string;
  count: number;
  /** Rows of the window whose histogram has this bin. */
  rows: number;
}

interface MomentRow {
  version: string;
  metric: string;
  bin: string;
  rows: number;
  /** numeric, as text: stored moments are within ±1e300, and numeric sums of them cannot overflow. */
  s1: string;
  s2: string;
  s3: string;
}

export interface WindowBins {
  histograms: Map<string, Histogram>;
  moments: Map<string, HistogramMoments>;
}

/**
 * The window's histograms merged per version and metric, and the per-bin moments of those in `known` (every
 * row that counted values has moments). Two grouped queries, each expanding every row's jsonb once: looking
 * a bin's moments up by key instead would de-TOAST the whole moments value once per bin (a full read of the
 * ingest bench's 1M-record rollups took 1.5 s that way, 58 ms this way).
 */
export async function readWindowBins(
  rows: () => Knex.QueryBuilder,
  knex: Knex,
  known: ReadonlyArray<{ version: string; metric: string }>,
): Promise<WindowBins> {
  const histograms = new Map<string, Histogram>();
  const moments = new Map<string, HistogramMoments>();
  const counts = (await rows()
    .whereRaw(`histogram <> '{}'::jsonb`)
    .crossJoin(knex.raw('jsonb_each_text(histogram) as h(bin, c)'))
    .groupBy('version', 'metric', 'h.bin')
    .select(
      'version',
      'metric',
      'h.bin as bin',
      knex.raw('sum(h.c::float8) as count'),
      knex.raw('count(*)::int as rows'),
    )) as CountRow[];
  const rowsWithBin = new Map<string, number>();
  for (const c of counts) {
    const k = figureKey(c.version, c.metric);
    (histograms.get(k) ?? histograms.set(k, {}).get(k)!)[c.bin] = c.count;
    rowsWithBin.set(`${k}\u0000${c.bin}`, c.rows);
  }
  const wanted = known.filter((p) => histograms.has(figureKey(p.version, p.metric)));
  if (wanted.length === 0) return { histograms, moments };

  const sums = (await rows()
    .whereIn(
      ['version', 'metric'],
      wanted.map((p) => [p.version, p.metric]),
    )
    .whereRaw(`histogram_moments <> '{}'::jsonb`)
    .crossJoin(knex.raw('jsonb_each(histogram_moments) as m(bin, v)'))
    .groupBy('version', 'metric', 'm.bin')
    .select(
      'version',
      'metric',
      'm.bin as bin',
      knex.raw('count(*)::int as rows'),
      knex.raw('sum((m.v -> 0)::numeric)::text as s1'),
      knex.raw('sum((m.v -> 1)::numeric)::text as s2'),
      knex.raw('sum((m.v -> 2)::numeric)::text as s3'),
    )) as MomentRow[];
  const unknown = new Set<string>();
  const matched = new Map<string, number>();
  for (const s of sums) {
    const k = figureKey(s.version, s.metric);
    const m: [number, number, number] = [Number(s.s1), Number(s.s2), Number(s.s3)];
    // Moments of a bin that not every row holding it has (a row written around Arena), or a sum past
    // float8 (a window of some 1e8 rows near the bound): the shape is unknown, not a guess.
    if (rowsWithBin.get(`${k}\u0000${s.bin}`) !== s.rows || !m.every(Number.isFinite)) unknown.add(k);
    if (unknown.has(k)) continue;
    (moments.get(k) ?? moments.set(k, {}).get(k)!)[s.bin] = m;
    matched.set(k, (matched.get(k) ?? 0) + 1);
  }
  for (const [k, h] of histograms)
    if (unknown.has(k) || (moments.has(k) && matched.get(k) !== Object.keys(h).length)) moments.delete(k);
  return { histograms, moments };
}
