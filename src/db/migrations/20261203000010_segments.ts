import type { Knex } from 'knex';
import { TENANT_ROLE } from './20261122000001_initial_schema.js';

/**
 * Segments (issue #20, DESIGN.md §11): a prediction may name the segment it belongs to (an origin airport,
 * a country), and the per-segment consistency check compares the versions within each segment.
 *
 * Per-segment sums live in their own table rather than as a column of metric_rollups: the pooled rows, which
 * every analysis, guardrail and report reads, stay exactly as they were (one row per bucket, whatever the
 * number of segments), and segment rows carry only what the check needs (counts and sums, no histograms).
 *
 * model_segments is the set of segment values a model tracks, at most MAX_SEGMENTS_PER_MODEL
 * (src/ingest/limits.ts) in order of first arrival; traffic of any other value is summed as '(other)'. It
 * bounds segment_rollups whatever a caller sends (a request id as a segment would otherwise make one row per
 * request); an analysis then keeps the top K by traffic of its window and merges the rest into '(other)'.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table predictions add column segment text null');
  await knex.schema.createTable('segment_rollups', (t) => {
    t.bigIncrements('id').primary();
    t.text('tenant_id').notNullable().defaultTo('default');
    t.text('model').notNullable();
    t.text('rollout_id').notNullable().defaultTo('');
    t.text('version').notNullable();
    t.text('role').notNullable().defaultTo('served');
    t.text('metric').notNullable();
    t.text('segment').notNullable();
    t.timestamp('bucket_start', { useTz: true }).notNullable();
    t.bigInteger('count').notNullable().defaultTo(0);
    t.double('sum').notNullable().defaultTo(0);
    t.double('sum_sq').notNullable().defaultTo(0);
    t.bigInteger('paired_count').notNullable().defaultTo(0);
    t.double('paired_sum').notNullable().defaultTo(0);
    t.double('paired_sum_sq').notNullable().defaultTo(0);
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    // Readers ask for one metric of a few versions over a window, grouped by segment: metric before the
    // time bucket so that is one index range.
    t.unique(['tenant_id', 'model', 'metric', 'version', 'role', 'rollout_id', 'bucket_start', 'segment']);
  });
  // Updated by every batch, as metric_rollups are (migration 20261122000005).
  await knex.raw(
    'alter table segment_rollups set (fillfactor = 50, autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 1000, autovacuum_analyze_scale_factor = 0.02)',
  );
  await knex.schema.createTable('model_segments', (t) => {
    t.text('tenant_id').notNullable().defaultTo('default');
    t.text('model').notNullable();
    t.text('segment').notNullable();
    t.timestamp('first_seen', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'model', 'segment']);
  });
  for (const table of ['segment_rollups', 'model_segments']) {
    await knex.raw(`alter table ${table} enable row level security`);
    await knex.raw(`alter table ${table} force row level security`);
    await knex.raw(`create policy owner_all on ${table} to current_user using (true) with check (true)`);
    await knex.raw(
      `create policy tenant_isolation on ${table} to ${TENANT_ROLE}
         using (tenant_id = current_setting('arena.tenant_id', true))
         with check (tenant_id = current_setting('arena.tenant_id', true))`,
    );
    await knex.raw(`grant select, insert, update, delete on ${table} to ${TENANT_ROLE}`);
  }
  await knex.raw(`grant usage on all sequences in schema public to ${TENANT_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('model_segments');
  await knex.schema.dropTableIfExists('segment_rollups');
  await knex.raw('alter table predictions drop column if exists segment');
}
