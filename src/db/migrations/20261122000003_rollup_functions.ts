import type { Knex } from 'knex';

/**
 * Histograms in metric_rollups are jsonb maps { "bin": count }. Merging two of them (an incremental upsert
 * adding a batch's latencies to a time bucket) adds counts bin by bin; this function does it in SQL so an
 * upsert stays one statement.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create or replace function arena_hist_add(a jsonb, b jsonb) returns jsonb
    language sql immutable parallel safe as $$
      select coalesce(jsonb_object_agg(k, total), '{}'::jsonb)
      from (
        select k, sum(v::numeric) as total
        from (select key as k, value as v from jsonb_each_text(coalesce(a, '{}'::jsonb))
              union all
              select key, value from jsonb_each_text(coalesce(b, '{}'::jsonb))) parts
        group by k
      ) merged
    $$`);
  // Feedback joins look up predictions by request id within a model.
  await knex.raw(
    `create index if not exists predictions_request_idx on predictions (tenant_id, model, request_id)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists predictions_request_idx');
  await knex.raw('drop function if exists arena_hist_add(jsonb, jsonb)');
}
