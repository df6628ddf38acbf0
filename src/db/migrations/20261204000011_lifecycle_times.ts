import type { Knex } from 'knex';

/**
 * Issue #21: the times people ask for, and rollouts that retry an aborted one.
 *
 * - `model_versions.promoted_at`: when the version last became champion (set by every promotion, a
 *   rollback to it and `arena model undo`). Backfilled from routing_history: the start of the latest run
 *   of rows in which it was champion.
 * - `retraining_jobs.deployed_at`: when the job's candidate became champion (its rollout promoted it).
 *   Backfilled for completed jobs from their candidate's promoted_at.
 * - `rollouts.retry_of`: the aborted rollout a rollout retries (`arena rollout retry`), so history links
 *   the two.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('model_versions', (t) => {
    t.timestamp('promoted_at', { useTz: true }).nullable();
  });
  await knex.schema.alterTable('retraining_jobs', (t) => {
    t.timestamp('deployed_at', { useTz: true }).nullable();
  });
  await knex.schema.alterTable('rollouts', (t) => {
    t.text('retry_of').nullable().references('id').inTable('rollouts').onDelete('SET NULL');
  });
  // A run of generations with the same champion starts where the previous generation had another one.
  await knex.raw(`
    update model_versions v
       set promoted_at = s.started
      from (select tenant_id, model, champion, max(at) as started
              from (select h.tenant_id, h.model, h.champion, h.at,
                           lag(h.champion) over (partition by h.tenant_id, h.model order by h.generation) as before
                      from routing_history h) runs
             where champion is not null and champion is distinct from before
             group by tenant_id, model, champion) s
     where v.tenant_id = s.tenant_id and v.model = s.model and v.version = s.champion`);
  await knex.raw(`
    update retraining_jobs j
       set deployed_at = v.promoted_at
      from model_versions v
     where j.status = 'completed' and v.tenant_id = j.tenant_id and v.model = j.model
       and v.version = j.candidate_version`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('rollouts', (t) => {
    t.dropColumn('retry_of');
  });
  await knex.schema.alterTable('retraining_jobs', (t) => {
    t.dropColumn('deployed_at');
  });
  await knex.schema.alterTable('model_versions', (t) => {
    t.dropColumn('promoted_at');
  });
}
