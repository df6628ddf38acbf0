import type { Knex } from 'knex';
import type { RoutingEntry } from '../routing/table.js';

/**
 * What a model keeps besides its versions: each key is written by the command that configures it and read
 * (and validated) by the job that uses it.
 */
export interface ModelMetadata {
  training?: unknown;
  monitoring?: unknown;
  backtest?: unknown;
  [key: string]: unknown;
}

export interface ModelSummary {
  model: string;
  description: string | null;
  champion: string | null;
  challenger: string | null;
  mode: RoutingEntry['mode'];
  versions: number;
}

/** Registers a model's name once; registering it again keeps the first description. */
export async function insertModel(
  trx: Knex.Transaction,
  tenantId: string,
  name: string,
  description: string | null,
): Promise<void> {
  await trx('models')
    .insert({ tenant_id: tenantId, name, description })
    .onConflict(['tenant_id', 'name'])
    .ignore();
}

export async function modelExists(
  db: Knex | Knex.Transaction,
  tenantId: string,
  name: string,
): Promise<boolean> {
  return Boolean(await db('models').where({ tenant_id: tenantId, name }).first('id'));
}

/** A model's metadata, or undefined for a model that is not registered. */
export async function modelMetadata(
  knex: Knex,
  tenantId: string,
  name: string,
): Promise<ModelMetadata | undefined> {
  const row = (await knex('models').where({ tenant_id: tenantId, name }).first('metadata')) as
    { metadata: ModelMetadata } | undefined;
  return row?.metadata;
}

/** Replaces `metadata.training`, leaving the other keys as they are; false for an unknown model. */
export async function storeTrainingConfig(
  knex: Knex,
  tenantId: string,
  name: string,
  raw: unknown,
): Promise<boolean> {
  const updated = await knex('models')
    .where({ tenant_id: tenantId, name })
    .update({
      metadata: knex.raw(`metadata || jsonb_build_object('training', ?::jsonb)`, [JSON.stringify(raw)]),
    });
  return updated > 0;
}

/** Every model of a tenant with its routing and how many versions it has, by name. */
export async function modelSummaries(knex: Knex, tenantId: string): Promise<ModelSummary[]> {
  const rows = await knex('models as m')
    .join('routing as r', function () {
      this.on('r.tenant_id', 'm.tenant_id').andOn('r.model', 'm.name');
    })
    .leftJoin('model_versions as v', function () {
      this.on('v.tenant_id', 'm.tenant_id').andOn('v.model', 'm.name');
    })
    .where('m.tenant_id', tenantId)
    .groupBy('m.name', 'm.description', 'r.champion', 'r.challenger', 'r.mode')
    .orderBy('m.name')
    .select(
      'm.name as model',
      'm.description',
      'r.champion',
      'r.challenger',
      'r.mode',
      knex.raw('count(v.id)::int as versions'),
    );
  return rows as ModelSummary[];
}
