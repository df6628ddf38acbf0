import type { Knex } from 'knex';
import { TENANT_ROLE } from './20261122000001_initial_schema.js';

/**
 * Issue #21: the champion monitor (src/monitoring/champion-tiers.ts).
 *
 * - `champion_baselines`: a champion's own figure of its accuracy metric when it was promoted, computed once
 *   by the first monitor run that can (from the traffic before the promotion, else the first window after).
 * - `champion_monitor_events`: what each run changed, per check: an episode opened, escalated, eased or
 *   resolved. A check's state is its latest event; one row per (run, version, check) makes a retried run repeat
 *   what it decided instead of deciding twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('champion_baselines', (t) => {
    t.text('tenant_id').notNullable().defaultTo('default');
    t.text('model').notNullable();
    t.text('version').notNullable();
    t.text('metric').notNullable();
    t.double('value').notNullable();
    t.bigInteger('n').notNullable();
    t.timestamp('window_from', { useTz: true }).notNullable();
    t.timestamp('window_to', { useTz: true }).notNullable();
    /** before_promotion | after_promotion */
    t.text('source').notNullable();
    t.timestamp('computed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['tenant_id', 'model', 'version', 'metric']);
  });
  await knex.schema.createTable('champion_monitor_events', (t) => {
    t.bigIncrements('id');
    t.text('tenant_id').notNullable().defaultTo('default');
    t.text('model').notNullable();
    t.text('version').notNullable();
    t.text('check_id').notNullable();
    t.text('check').notNullable();
    t.text('kind').notNullable();
    t.text('tier').notNullable();
    t.text('peak').notNullable();
    t.text('episode').notNullable();
    t.double('figure');
    t.double('baseline');
    t.double('threshold').notNullable();
    t.bigInteger('n').notNullable();
    t.text('reason').notNullable();
    t.timestamp('window_from', { useTz: true }).notNullable();
    t.timestamp('window_to', { useTz: true }).notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'model', 'check_id', 'version', 'check']);
    t.index(['tenant_id', 'model', 'check', 'id']);
  });
  await knex.raw(`alter table champion_monitor_events
    add constraint champion_monitor_events_kind check (kind in ('opened', 'escalated', 'eased', 'resolved')),
    add constraint champion_monitor_events_tier check (tier in ('ok', 'warning', 'critical'))`);
  // Tenant tables, under row-level security like every other (migration 20261122000001).
  for (const table of ['champion_baselines', 'champion_monitor_events']) {
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
  await knex.schema.dropTable('champion_monitor_events');
  await knex.schema.dropTable('champion_baselines');
}
