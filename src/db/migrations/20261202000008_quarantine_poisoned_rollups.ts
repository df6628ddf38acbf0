import type { Knex } from 'knex';
import { TENANT_ROLE } from './20261122000001_initial_schema.js';

/**
 * Before ingestion refused numbers whose powers overflow (src/ingest/limits.ts), one absurd value (a latency
 * of 1e308) could make a rollup's sum of squares Infinity, and every statistic read from that rollup
 * afterwards NaN or Infinity: the model's health answered 500 from then on. This moves such rows out of
 * metric_rollups into metric_rollups_quarantine, unchanged and with the reason, so every reader stays finite
 * and nothing is deleted. A bucket moved here is missing from the analyses of its window (docs/ingestion.md).
 *
 * The bounds are far above anything valid data can reach: values are at most 1e50, derived outcome metrics
 * at most 1e110, so a bucket's sum stays below 1e120 and its sum of squares below 1e240 for up to 1e9
 * records per bucket. `abs(x) > bound` is also true of NaN and ±Infinity in PostgreSQL.
 */
export const POISONED_ROLLUP = `(abs(sum) > 1e120 or abs(paired_sum) > 1e120
  or abs(sum_sq) > 1e240 or abs(paired_sum_sq) > 1e240
  or abs(coalesce(min, 0)) > 1e110 or abs(coalesce(max, 0)) > 1e110)`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`create table metric_rollups_quarantine (like metric_rollups including defaults)`);
  await knex.raw(`alter table metric_rollups_quarantine
    add column quarantined_at timestamptz not null default now(),
    add column reason text not null`);
  await knex.raw('alter table metric_rollups_quarantine enable row level security');
  await knex.raw('alter table metric_rollups_quarantine force row level security');
  await knex.raw(
    'create policy owner_all on metric_rollups_quarantine to current_user using (true) with check (true)',
  );
  await knex.raw(
    `create policy tenant_isolation on metric_rollups_quarantine to ${TENANT_ROLE}
       using (tenant_id = current_setting('arena.tenant_id', true))`,
  );
  await knex.raw(`grant select on metric_rollups_quarantine to ${TENANT_ROLE}`);
  await knex.raw(`
    with moved as (delete from metric_rollups where ${POISONED_ROLLUP} returning *)
    insert into metric_rollups_quarantine
    select moved.*, now(), 'a sum or extreme too large for any statistic (non-finite, or stored before ingestion bounded values)'
      from moved`);
}

export async function down(knex: Knex): Promise<void> {
  // Rows go back as they were; a later up moves them again.
  await knex.raw(`insert into metric_rollups
    select id, tenant_id, model, rollout_id, version, role, metric, bucket_start, count, sum, sum_sq,
           paired_count, paired_sum, paired_sum_sq, error_count, min, max, histogram, updated_at
      from metric_rollups_quarantine
     on conflict do nothing`);
  await knex.schema.dropTable('metric_rollups_quarantine');
}
