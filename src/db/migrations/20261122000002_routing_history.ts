import type { Knex } from 'knex';
import { TENANT_ROLE } from './20261122000001_initial_schema.js';

/**
 * Every generation of every routing row, so "which version was champion (or served 5%) at time T?" is a
 * query over data rather than a walk through the audit log.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('routing_history', (t) => {
    t.bigIncrements('id').primary();
    t.text('tenant_id').notNullable().defaultTo('default');
    t.text('model').notNullable();
    t.bigInteger('generation').notNullable();
    t.text('champion');
    t.text('challenger');
    t.text('mode').notNullable();
    t.integer('weight_bp').notNullable();
    t.specificType('shadow', 'text[]').notNullable().defaultTo('{}');
    t.jsonb('segment_overrides').notNullable().defaultTo('[]');
    t.text('salt').notNullable();
    t.text('changed_by').notNullable();
    t.text('reason');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'model', 'generation']);
    t.index(['tenant_id', 'model', 'at']);
  });
  await knex.raw(`alter table routing_history enable row level security`);
  await knex.raw(`alter table routing_history force row level security`);
  await knex.raw(`create policy owner_all on routing_history to current_user using (true) with check (true)`);
  await knex.raw(
    `create policy tenant_isolation on routing_history to ${TENANT_ROLE}
       using (tenant_id = current_setting('arena.tenant_id', true))
       with check (tenant_id = current_setting('arena.tenant_id', true))`,
  );
  await knex.raw(`grant select, insert on routing_history to ${TENANT_ROLE}`);
  await knex.raw(`grant usage on all sequences in schema public to ${TENANT_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('routing_history');
}
