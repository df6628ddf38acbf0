import type { Knex } from 'knex';

export interface ServedFeatures {
  /** Numbers, and categories as text. */
  features: Record<string, number | string>;
  value: number | null;
}

/**
 * The newest served, successful predictions of one version in a window that recorded their features,
 * bounded: enough for PSI and KS, never a scan of a day of traffic.
 */
export async function servedFeatureSample(
  knex: Knex,
  q: { tenantId: string; model: string; version: string; from: Date; to: Date; limit: number },
): Promise<ServedFeatures[]> {
  return (await knex('predictions')
    .where({ tenant_id: q.tenantId, model: q.model, version: q.version, role: 'served', error: false })
    .whereBetween('at', [q.from, q.to])
    .whereNotNull('features')
    .orderBy('at', 'desc')
    .limit(q.limit)
    .select('features', 'value')) as ServedFeatures[];
}
