import type { Knex } from 'knex';

/**
 * The whole schema of DESIGN.md §3. Every table holding tenant data has tenant_id and row-level security;
 * the policy reads the tenant from the transaction-local setting `arena.tenant_id`, which the gateway sets
 * after `SET LOCAL ROLE arena_tenant`. Internal workers run as the owner and see every tenant.
 */

export const TENANT_ROLE = 'arena_tenant';

export const TENANT_TABLES = [
  'models',
  'model_versions',
  'routing',
  'predictions',
  'feedback',
  'metric_rollups',
  'rollouts',
  'rollout_events',
  'analyses',
  'approvals',
  'alerts',
  'experiments',
  'retraining_jobs',
  'backtest_results',
  'drift_reports',
  'audit_log',
] as const;

const VERSION_STATUSES = ['candidate', 'challenger', 'shadow', 'champion', 'archived', 'rejected'];

function tenant(t: Knex.CreateTableBuilder): void {
  t.text('tenant_id').notNullable().defaultTo('default');
}

function timestamps(t: Knex.CreateTableBuilder, knex: Knex): void {
  t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('models', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('name').notNullable();
    t.text('description');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    timestamps(t, knex);
    t.unique(['tenant_id', 'name']);
  });

  await knex.schema.createTable('model_versions', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('model').notNullable();
    t.text('version').notNullable();
    t.integer('major').notNullable();
    t.integer('minor').notNullable();
    t.integer('patch').notNullable();
    t.text('prerelease');
    t.text('build');
    t.text('status').notNullable().defaultTo('candidate');
    t.text('artifact_uri');
    t.text('artifact_digest');
    t.jsonb('training').notNullable().defaultTo('{}');
    t.jsonb('metrics').notNullable().defaultTo('{}');
    t.text('parent_version');
    timestamps(t, knex);
    t.unique(['tenant_id', 'model', 'version']);
    t.foreign(['tenant_id', 'model']).references(['tenant_id', 'name']).inTable('models').onDelete('CASCADE');
  });
  await knex.raw(
    `alter table model_versions add constraint model_versions_status_check check (status in (${VERSION_STATUSES.map((s) => `'${s}'`).join(',')}))`,
  );

  await knex.schema.createTable('routing', (t) => {
    tenant(t);
    t.text('model').notNullable();
    t.text('champion');
    t.text('challenger');
    t.text('mode').notNullable().defaultTo('off');
    t.integer('weight_bp').notNullable().defaultTo(0);
    t.specificType('shadow', 'text[]').notNullable().defaultTo('{}');
    t.jsonb('segment_overrides').notNullable().defaultTo('[]');
    t.text('salt').notNullable();
    t.bigInteger('generation').notNullable().defaultTo(1);
    t.text('updated_by');
    timestamps(t, knex);
    t.primary(['tenant_id', 'model']);
    t.foreign(['tenant_id', 'model']).references(['tenant_id', 'name']).inTable('models').onDelete('CASCADE');
  });
  await knex.raw(
    `alter table routing add constraint routing_mode_check check (mode in ('off','shadow','canary'))`,
  );
  await knex.raw(
    `alter table routing add constraint routing_weight_check check (weight_bp between 0 and 10000)`,
  );

  await knex.schema.createTable('predictions', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('request_id').notNullable();
    t.text('unit_id');
    t.text('model').notNullable();
    t.text('version').notNullable();
    t.text('role').notNullable().defaultTo('served');
    t.text('rollout_id');
    t.double('value');
    t.jsonb('prediction');
    t.double('latency_ms');
    t.boolean('error').notNullable().defaultTo(false);
    t.text('error_code');
    t.jsonb('metrics');
    t.text('features_hash');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'model', 'request_id', 'version', 'role']);
    t.index(['tenant_id', 'model', 'at']);
  });
  await knex.raw(
    `alter table predictions add constraint predictions_role_check check (role in ('served','shadow'))`,
  );
  await knex.raw(
    `alter table predictions add constraint predictions_latency_check check (latency_ms is null or latency_ms >= 0)`,
  );

  await knex.schema.createTable('feedback', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('model').notNullable();
    t.text('request_id').notNullable();
    t.double('value');
    t.jsonb('actual');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'model', 'request_id']);
  });

  await knex.schema.createTable('metric_rollups', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('model').notNullable();
    // '' when the traffic belongs to no rollout, so the unique key needs no nullable column.
    t.text('rollout_id').notNullable().defaultTo('');
    t.text('version').notNullable();
    t.text('role').notNullable().defaultTo('served');
    t.text('metric').notNullable();
    t.timestamp('bucket_start', { useTz: true }).notNullable();
    t.bigInteger('count').notNullable().defaultTo(0);
    t.double('sum').notNullable().defaultTo(0);
    t.double('sum_sq').notNullable().defaultTo(0);
    t.bigInteger('paired_count').notNullable().defaultTo(0);
    t.double('paired_sum').notNullable().defaultTo(0);
    t.double('paired_sum_sq').notNullable().defaultTo(0);
    t.bigInteger('error_count').notNullable().defaultTo(0);
    t.double('min');
    t.double('max');
    t.jsonb('histogram').notNullable().defaultTo('{}');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'model', 'rollout_id', 'version', 'role', 'metric', 'bucket_start']);
  });

  await knex.schema.createTable('rollouts', (t) => {
    t.text('id').primary();
    tenant(t);
    t.text('model').notNullable();
    t.text('champion');
    t.text('challenger').notNullable();
    t.text('state').notNullable();
    t.integer('stage_index');
    t.jsonb('policy').notNullable();
    t.text('proposed_by').notNullable();
    t.text('decision');
    t.text('workflow_id').notNullable();
    t.text('run_id');
    timestamps(t, knex);
    t.timestamp('ended_at', { useTz: true });
    t.index(['tenant_id', 'model']);
  });

  await knex.schema.createTable('rollout_events', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('rollout_id').notNullable().references('id').inTable('rollouts').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.text('type').notNullable();
    t.text('from_state');
    t.text('to_state');
    t.text('actor');
    t.text('reason');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['rollout_id', 'seq']);
  });

  await knex.schema.createTable('analyses', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('rollout_id').notNullable().references('id').inTable('rollouts').onDelete('CASCADE');
    t.integer('seq').notNullable();
    t.integer('stage_index');
    t.text('decision').notNullable();
    t.jsonb('result').notNullable();
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['rollout_id', 'seq']);
  });

  await knex.schema.createTable('approvals', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('subject_type').notNullable(); // rollout | promotion | experiment
    t.text('subject_id').notNullable();
    t.text('actor').notNullable();
    t.text('decision').notNullable(); // approved | rejected
    t.text('comment');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['subject_type', 'subject_id', 'actor']);
  });

  await knex.schema.createTable('alerts', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('type').notNullable();
    t.text('severity').notNullable();
    t.text('status').notNullable().defaultTo('unread');
    t.text('model');
    t.text('rollout_id');
    t.text('title').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.text('dedupe_key').notNullable();
    t.text('actioned_by');
    timestamps(t, knex);
    t.unique(['tenant_id', 'dedupe_key']);
  });
  await knex.raw(
    `alter table alerts add constraint alerts_severity_check check (severity in ('info','warning','critical'))`,
  );
  await knex.raw(
    `alter table alerts add constraint alerts_status_check check (status in ('unread','read','actioned','dismissed'))`,
  );

  await knex.schema.createTable('experiments', (t) => {
    t.text('id').primary();
    tenant(t);
    t.text('name').notNullable();
    t.text('model');
    t.text('hypothesis').notNullable();
    t.text('type').notNullable();
    t.double('expected_improvement');
    t.text('status').notNullable();
    t.text('proposer').notNullable();
    t.text('approver');
    t.jsonb('results');
    t.text('decision');
    t.text('rationale');
    timestamps(t, knex);
  });

  await knex.schema.createTable('retraining_jobs', (t) => {
    t.text('id').primary();
    tenant(t);
    t.text('model').notNullable();
    t.text('trigger').notNullable();
    t.text('status').notNullable();
    t.text('backend').notNullable();
    t.jsonb('params').notNullable().defaultTo('{}');
    t.jsonb('metrics');
    t.text('candidate_version');
    t.text('error');
    t.text('workflow_id');
    t.timestamp('started_at', { useTz: true });
    t.timestamp('finished_at', { useTz: true });
    timestamps(t, knex);
  });

  await knex.schema.createTable('backtest_results', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('model').notNullable();
    t.text('version').notNullable();
    t.date('window_start').notNullable();
    t.date('window_end').notNullable();
    t.integer('n').notNullable();
    t.double('mae');
    t.double('mape');
    t.double('bias');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['tenant_id', 'model', 'version', 'window_start', 'window_end']);
  });

  await knex.schema.createTable('drift_reports', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.text('model').notNullable();
    t.text('version');
    t.text('feature').notNullable();
    t.text('method').notNullable(); // psi | ks
    t.double('statistic').notNullable();
    t.double('p_value');
    t.double('threshold');
    t.boolean('drifted').notNullable();
    t.jsonb('windows').notNullable().defaultTo('{}');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary();
    tenant(t);
    t.timestamp('at', { useTz: true }).notNullable();
    t.text('actor').notNullable();
    t.text('action').notNullable();
    t.text('entity_type').notNullable();
    t.text('entity_id').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    // Retried activities write the same key; the second write is a no-op.
    t.text('idempotency_key').notNullable().unique();
    t.text('prev_hash').notNullable();
    t.text('hash').notNullable().unique();
  });

  // The role tenant-scoped requests switch to. Roles are cluster-wide, so create it only once.
  await knex.raw(`
    do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${TENANT_ROLE}') then
        create role ${TENANT_ROLE} nologin;
      end if;
    end $$`);
  // A non-superuser owner needs membership to `SET ROLE` to it; a superuser already may.
  await knex.raw(`
    do $$ begin
      grant ${TENANT_ROLE} to current_user;
    exception when others then null;
    end $$`);
  for (const table of TENANT_TABLES) {
    await knex.raw(`alter table ${table} enable row level security`);
    await knex.raw(`alter table ${table} force row level security`);
    // The owner (workers, migrations) bypasses the policy through this one; tenants are confined by the next.
    await knex.raw(`create policy owner_all on ${table} to current_user using (true) with check (true)`);
    await knex.raw(
      `create policy tenant_isolation on ${table} to ${TENANT_ROLE}
         using (tenant_id = current_setting('arena.tenant_id', true))
         with check (tenant_id = current_setting('arena.tenant_id', true))`,
    );
    await knex.raw(`grant select, insert, update, delete on ${table} to ${TENANT_ROLE}`);
  }
  await knex.raw(`grant usage on all sequences in schema public to ${TENANT_ROLE}`);
  // The audit ledger is append-only for tenants: no update, no delete.
  await knex.raw(`revoke update, delete on audit_log from ${TENANT_ROLE}`);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [...TENANT_TABLES].reverse()) {
    await knex.schema.dropTableIfExists(table);
  }
}
