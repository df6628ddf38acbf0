import type { Knex } from 'knex';
import { TENANT_ROLE } from './20261122000001_initial_schema.js';

/** One row per (alert, sink): the claim that makes a delivery happen once however often it is retried. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notification_deliveries', (t) => {
    t.bigIncrements('id').primary();
    t.text('tenant_id').notNullable().defaultTo('default');
    t.bigInteger('alert_id').notNullable().references('id').inTable('alerts').onDelete('CASCADE');
    t.text('sink').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('http_status');
    t.text('last_error');
    t.timestamp('delivered_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'alert_id', 'sink']);
  });
  await knex.raw(
    `alter table notification_deliveries add constraint notification_deliveries_status_check check (status in ('pending','delivered','failed'))`,
  );
  await knex.raw('alter table notification_deliveries enable row level security');
  await knex.raw('alter table notification_deliveries force row level security');
  await knex.raw(
    'create policy owner_all on notification_deliveries to current_user using (true) with check (true)',
  );
  await knex.raw(
    `create policy tenant_isolation on notification_deliveries to ${TENANT_ROLE}
       using (tenant_id = current_setting('arena.tenant_id', true))`,
  );
  await knex.raw(`grant select on notification_deliveries to ${TENANT_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notification_deliveries');
}
