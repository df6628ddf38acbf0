import type { Knex } from 'knex';
import { TENANT_ROLE } from './20261122000001_initial_schema.js';

/**
 * Issue #21: bounded storage. `predictions` and `feedback` become tables partitioned by day, so that keeping
 * N days is dropping whole partitions (docs/operations.md, "Retention").
 *
 * The partition key is the day of the *request*, not of each row: `requests` holds, per request, the UTC day of
 * the first record of it that arrived (its anchor), and every prediction and the feedback of that request go
 * to that day's partition. That keeps two things today's schema gives:
 * - Exact de-duplication. A partitioned table's unique key must contain the partition key. With the row's own
 *   `at` in the key, a retried request stamped again by the server, or a second actual a day later, would be
 *   stored twice; with the request's day, the key means what it meant before.
 * - Lookups by request. A prediction finds its feedback (and feedback its predictions) in the one partition
 *   its request's day names, instead of probing every partition (measured on 30 daily partitions: 300 ms per
 *   5,000 keys against 17 ms on one table).
 *
 * `raw_data_days` lists which models have rows on which day, so retention can decide per model without
 * scanning a partition. `arena_ensure_day_partitions(days)` creates missing partitions (writers call it
 * inside their transaction; it runs as the owner so the gateway's tenant role can call it too).
 *
 * Existing rows move: each request is anchored at its earliest record's day, and the rows are copied.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of ['predictions', 'feedback']) {
    await knex.raw(`alter table ${table} rename to ${table}_unpartitioned`);
    await knex.raw(`alter index ${table}_pkey rename to ${table}_unpartitioned_pkey`);
  }
  await knex.raw('alter index predictions_at_brin rename to predictions_unpartitioned_at_brin');

  await knex.raw(`
    create table requests (
      tenant_id text not null default 'default',
      model text not null,
      request_id text not null,
      day date not null,
      primary key (tenant_id, model, request_id)
    )`);
  // Rows arrive roughly in day order, so a BRIN index finds a day's rows for retention at almost no cost.
  await knex.raw('create index requests_day_brin on requests using brin (day)');
  await knex.raw(`
    create table raw_data_days (
      tenant_id text not null default 'default',
      model text not null,
      day date not null,
      primary key (day, tenant_id, model)
    )`);

  await knex.raw(`
    create table predictions (like predictions_unpartitioned including defaults including constraints,
                              day date not null)
    partition by range (day)`);
  await knex.raw(
    'alter table predictions add primary key (tenant_id, model, request_id, version, role, day)',
  );
  await knex.raw('create index predictions_at_brin on predictions using brin (at)');
  await knex.raw(`
    create table feedback (like feedback_unpartitioned including defaults including constraints,
                           day date not null)
    partition by range (day)`);
  await knex.raw('alter table feedback add primary key (tenant_id, model, request_id, day)');

  await knex.raw(`
    create function arena_ensure_day_partitions(days date[]) returns int
    language plpgsql security definer set search_path = public, pg_temp as $$
    declare
      d date;
      t text;
      made int := 0;
    begin
      foreach d in array (select array(select distinct x from unnest(days) x where x is not null order by x)) loop
        -- One creator per day; a second caller waits, then finds the partitions made.
        perform pg_advisory_xact_lock(hashtextextended('arena-day-partition:' || d::text, 0));
        foreach t in array array['predictions', 'feedback'] loop
          if to_regclass(format('%I', t || '_' || to_char(d, 'YYYYMMDD'))) is null then
            -- Created apart, then attached: ATTACH takes a lock that lets writers go on (CREATE … PARTITION OF
            -- would take one that stops them).
            execute format('create table %I (like %I including defaults including constraints)',
                           t || '_' || to_char(d, 'YYYYMMDD'), t);
            execute format('alter table %I attach partition %I for values from (%L) to (%L)',
                           t, t || '_' || to_char(d, 'YYYYMMDD'), d, d + 1);
            made := made + 1;
          end if;
        end loop;
      end loop;
      return made;
    end $$`);
  await knex.raw(`revoke all on function arena_ensure_day_partitions(date[]) from public`);
  await knex.raw(`grant execute on function arena_ensure_day_partitions(date[]) to ${TENANT_ROLE}`);

  // Existing rows: anchor each request at its earliest record's UTC day, make those days' partitions, copy.
  await knex.raw(`
    insert into requests (tenant_id, model, request_id, day)
    select tenant_id, model, request_id, min((at at time zone 'UTC')::date)
      from (select tenant_id, model, request_id, at from predictions_unpartitioned
            union all
            select tenant_id, model, request_id, at from feedback_unpartitioned) r
     group by tenant_id, model, request_id`);
  await knex.raw(`select arena_ensure_day_partitions(array(select distinct day from requests))`);
  await knex.raw(`
    insert into predictions
    select p.*, r.day from predictions_unpartitioned p
      join requests r using (tenant_id, model, request_id)`);
  await knex.raw(`
    insert into feedback
    select f.*, r.day from feedback_unpartitioned f
      join requests r using (tenant_id, model, request_id)`);
  await knex.raw(`insert into raw_data_days select distinct tenant_id, model, day from requests`);
  await knex.raw('drop table predictions_unpartitioned');
  await knex.raw('drop table feedback_unpartitioned');

  // Tenant tables, under row-level security like every other (migration 20261122000001). Partitions are
  // reached through their parent, whose policies apply; the tenant role has no grant on a partition itself.
  for (const table of ['predictions', 'feedback', 'requests', 'raw_data_days'])
    await underRowLevelSecurity(knex, table);
}

/** As every tenant table (migration 20261122000001): the owner sees all, the tenant role its own rows. */
async function underRowLevelSecurity(knex: Knex, table: string): Promise<void> {
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

export async function down(knex: Knex): Promise<void> {
  for (const table of ['predictions', 'feedback']) {
    await knex.raw(
      `create table ${table}_unpartitioned (like ${table} including defaults including constraints)`,
    );
    await knex.raw(`insert into ${table}_unpartitioned select * from ${table}`);
    await knex.raw(`alter table ${table}_unpartitioned drop column day`);
    await knex.raw(`drop table ${table}`);
    await knex.raw(`alter table ${table}_unpartitioned rename to ${table}`);
  }
  await knex.raw('alter table predictions add primary key (tenant_id, model, request_id, version, role)');
  await knex.raw('create index predictions_at_brin on predictions using brin (at)');
  await knex.raw('alter table feedback add primary key (tenant_id, model, request_id)');
  await knex.raw('drop function arena_ensure_day_partitions(date[])');
  await knex.raw('drop table raw_data_days');
  await knex.raw('drop table requests');
  for (const table of ['predictions', 'feedback']) await underRowLevelSecurity(knex, table);
}
