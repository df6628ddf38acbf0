import type { Knex } from 'knex';

/**
 * Monitoring: the input values a model saw, per prediction (nullable, only filled when a server reports
 * them, so predictions without features cost what they did: an empty COPY field), and a key that makes a
 * drift check's report rows idempotent when its activity is retried.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table predictions add column features jsonb');
  await knex.raw('alter table drift_reports add column check_id text');
  await knex.raw(
    'create unique index drift_reports_check_key on drift_reports (tenant_id, check_id, feature, method)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index drift_reports_check_key');
  await knex.raw('alter table drift_reports drop column check_id');
  await knex.raw('alter table predictions drop column features');
}
