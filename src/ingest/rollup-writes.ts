import type pg from 'pg';
import { outcomeMetrics, type RollupAccumulator, type RollupDelta } from './rollup-delta.js';
import type { Prediction } from './records.js';
import { histogramOf, MAX_SUM_CUBES, momentsOf } from './value-shape.js';

interface StoredPrediction {
  model: string;
  request_id: string;
  version: string;
  role: 'served' | 'shadow';
  rollout_id: string;
  value: number | null;
  prediction: unknown;
  error: boolean;
  segment: string | null;
  at: Date;
}

function fromRow(r: StoredPrediction): Prediction {
  return {
    requestId: r.request_id,
    unitId: null,
    model: r.model,
    version: r.version,
    role: r.role,
    value: r.value,
    prediction: r.prediction,
    latencyMs: null,
    error: r.error,
    errorCode: null,
    metrics: null,
    featuresHash: null,
    features: null,
    rolloutId: r.rollout_id,
    segment: r.segment,
    at: r.at,
  };
}

/**
 * Outcome metrics and shadow pairs for requests whose actual is known. A shadow version's per-request
 * difference against the served version is counted exactly once: in the transaction that completes the
 * triple (served prediction, shadow prediction, actual), whichever of the three arrives last.
 */
export async function addOutcomes(
  client: pg.PoolClient,
  tenantId: string,
  acc: RollupAccumulator,
  requests: Array<{ model: string; requestId: string; actual: unknown; day: string }>,
  isNew: (p: Prediction) => boolean,
  outcomeFor: (p: Prediction) => boolean,
): Promise<void> {
  if (requests.length === 0) return;
  // The request's day names the one partition its predictions are in (src/ingest/request-anchors.ts).
  const { rows } = await client.query<StoredPrediction>(
    `select p.model, p.request_id, p.version, p.role, p.rollout_id, p.value, p.prediction, p.error, p.segment,
            p.at
       from predictions p
       join unnest($2::text[], $3::text[], $4::date[]) as r(model, request_id, day)
         on p.model = r.model and p.request_id = r.request_id and p.day = r.day
      where p.tenant_id = $1 and p.day = any($5::date[])`,
    [
      tenantId,
      requests.map((r) => r.model),
      requests.map((r) => r.requestId),
      requests.map((r) => r.day),
      [...new Set(requests.map((r) => r.day))],
    ],
  );
  const byRequest = new Map<string, Prediction[]>();
  for (const row of rows) {
    const p = fromRow(row);
    const k = `${p.model}\u0000${p.requestId}`;
    const list = byRequest.get(k);
    if (list) list.push(p);
    else byRequest.set(k, [p]);
  }
  for (const request of requests) {
    const preds = byRequest.get(`${request.model}\u0000${request.requestId}`) ?? [];
    const metrics = new Map<Prediction, Record<string, number>>();
    for (const p of preds) {
      metrics.set(p, outcomeFor(p) ? acc.addOutcome(p, request.actual) : outcomeMetrics(p, request.actual));
    }
    for (const served of preds.filter((p) => p.role === 'served')) {
      for (const shadow of preds.filter((p) => p.role === 'shadow')) {
        if (!isNew(served) && !isNew(shadow)) continue;
        const s = metrics.get(served)!;
        const h = metrics.get(shadow)!;
        for (const name of Object.keys(h)) {
          if (name in s) acc.addPaired(shadow, name, h[name]! - s[name]!);
        }
      }
    }
  }
}

/** A sum of cubes as stored: NULL when unknown (RollupDelta keeps NaN, see there). */
const cubes = (s: number): number | null => (Number.isNaN(s) ? null : s);

/**
 * The histogram and its per-bin moments as stored. Moments are '{}' when unknown, which a non-empty
 * histogram tells apart from "no values" (migration 20261202000009).
 */
function binsJson(d: RollupDelta): [histogram: string, moments: string] {
  if (d.bins === null || d.bins.size === 0) return ['{}', '{}'];
  return [JSON.stringify(histogramOf(d.bins)), JSON.stringify(momentsOf(d.bins) ?? {})];
}

const COLUMNS = [
  'tenant_id',
  'model',
  'rollout_id',
  'version',
  'role',
  'metric',
  'bucket_start',
  'count',
  'sum',
  'sum_sq',
  'sum_cubes',
  'paired_count',
  'paired_sum',
  'paired_sum_sq',
  'paired_sum_cubes',
  'error_count',
  'min',
  'max',
  'histogram',
  'histogram_moments',
];

/**
 * Adds the deltas to their rows. A sum of cubes that is unknown on either side, or whose sum would pass
 * MAX_SUM_CUBES (1e300), becomes NULL: both sides are within the bound, so the addition itself cannot
 * overflow, and NULL stays NULL (a row from before sums of cubes were kept has an unknown shape for good).
 * Moments are known only while every value the row counts went into them: the batch's when the row had no
 * values yet, unknown ('{}') when the row counted values without a histogram (written before this
 * metric had one) or either side's are unknown, else added bin by bin by arena_moments_add, which also
 * answers '{}' past the bound.
 */
export async function upsertRollups(
  client: pg.PoolClient,
  tenantId: string,
  deltas: RollupDelta[],
): Promise<void> {
  // A few thousand parameters per statement at most: chunk so big batches stay under Postgres' limit.
  for (let i = 0; i < deltas.length; i += 1000) {
    const chunk = deltas.slice(i, i + 1000);
    const params: unknown[] = [];
    const tuples = chunk.map((d) => {
      const base = params.length;
      const [histogram, moments] = binsJson(d);
      params.push(
        tenantId,
        d.model,
        d.rolloutId,
        d.version,
        d.role,
        d.metric,
        new Date(d.bucketStart).toISOString(),
        d.count,
        d.sum,
        d.sumSq,
        cubes(d.sumCubes),
        d.pairedCount,
        d.pairedSum,
        d.pairedSumSq,
        cubes(d.pairedSumCubes),
        d.errorCount,
        d.min,
        d.max,
        histogram,
        moments,
      );
      return `(${COLUMNS.map((_, j) => `$${base + j + 1}`).join(',')})`;
    });
    const addCubes = (column: string): string =>
      `${column} = case when abs(metric_rollups.${column}) <= ${MAX_SUM_CUBES}
                         and abs(excluded.${column}) <= ${MAX_SUM_CUBES}
                         and abs(metric_rollups.${column} + excluded.${column}) <= ${MAX_SUM_CUBES}
                        then metric_rollups.${column} + excluded.${column} end`;
    await client.query(
      `insert into metric_rollups (${COLUMNS.join(', ')})
       values ${tuples.join(',')}
       on conflict (tenant_id, model, rollout_id, version, role, metric, bucket_start) do update set
         count = metric_rollups.count + excluded.count,
         sum = metric_rollups.sum + excluded.sum,
         sum_sq = metric_rollups.sum_sq + excluded.sum_sq,
         ${addCubes('sum_cubes')},
         paired_count = metric_rollups.paired_count + excluded.paired_count,
         paired_sum = metric_rollups.paired_sum + excluded.paired_sum,
         paired_sum_sq = metric_rollups.paired_sum_sq + excluded.paired_sum_sq,
         ${addCubes('paired_sum_cubes')},
         error_count = metric_rollups.error_count + excluded.error_count,
         min = least(metric_rollups.min, excluded.min),
         max = greatest(metric_rollups.max, excluded.max),
         histogram = case when excluded.histogram = '{}'::jsonb then metric_rollups.histogram
                          else arena_hist_add(metric_rollups.histogram, excluded.histogram) end,
         histogram_moments = case
           when excluded.histogram = '{}'::jsonb then metric_rollups.histogram_moments
           when metric_rollups.histogram = '{}'::jsonb
             then case when metric_rollups.count = 0 then excluded.histogram_moments else '{}'::jsonb end
           when metric_rollups.histogram_moments = '{}'::jsonb or excluded.histogram_moments = '{}'::jsonb
             then '{}'::jsonb
           else arena_moments_add(metric_rollups.histogram_moments, excluded.histogram_moments) end,
         updated_at = now()`,
      params,
    );
  }
}
