import type { Knex } from 'knex';

/**
 * Rollups learn the shape of their values (issue #23): sums of cubes give the skewness, and per-bin moments
 * of the histogram ({ bin: [Σx, Σx², Σx³] }) give exact moments of the values capped at any bin edge.
 *
 * Unknown is explicit and never guessed: rows written before this migration keep NULL sums of cubes and
 * '{}' moments (a non-empty histogram with '{}' moments is unknown), and adding to NULL stays NULL. Nothing
 * is backfilled: the values behind an old row are not there to compute it from.
 *
 * Overflow: values reach 1e50 and derived outcome metrics 1e110, so a cube can exceed float8, and a float8
 * overflow is an error that would fail a whole ingestion batch. Every sum of cubes whose magnitude would
 * pass 1e300 is stored as unknown instead (src/ingest/value-shape.ts, MAX_SUM_CUBES). Moments keep that
 * rule per row rather than per bin: if any bin's sum of cubes would pass it, the row's moments become '{}',
 * so stored moments always hold numbers within ±1e300. Adding two of them cannot overflow float8, and a
 * reader adds them as numeric, which cannot overflow at all.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of ['metric_rollups', 'metric_rollups_quarantine']) {
    await knex.raw(`alter table ${table}
      add column sum_cubes float8 null,
      add column paired_sum_cubes float8 null,
      add column histogram_moments jsonb not null default '{}'::jsonb`);
  }
  // The merge of two rows' moments, bin by bin; '{}' (unknown) when a merged sum would pass the bound.
  // Every input is a row's own moments, so within ±1e300: the float8 sums cannot overflow.
  await knex.raw(`
    create or replace function arena_moments_add(a jsonb, b jsonb) returns jsonb
    language sql immutable parallel safe as $$
      select case when bool_or(greatest(abs(s1), abs(s2), abs(s3)) > 1e300) then '{}'::jsonb
                  else coalesce(jsonb_object_agg(k, jsonb_build_array(s1, s2, s3)), '{}'::jsonb) end
      from (
        select k, sum((v->>0)::float8) as s1, sum((v->>1)::float8) as s2, sum((v->>2)::float8) as s3
        from (select key as k, value as v from jsonb_each(coalesce(a, '{}'::jsonb))
              union all
              select key, value from jsonb_each(coalesce(b, '{}'::jsonb))) parts
        group by k
      ) merged
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists arena_moments_add(jsonb, jsonb)');
  for (const table of ['metric_rollups', 'metric_rollups_quarantine']) {
    await knex.raw(`alter table ${table}
      drop column if exists sum_cubes,
      drop column if exists paired_sum_cubes,
      drop column if exists histogram_moments`);
  }
}
