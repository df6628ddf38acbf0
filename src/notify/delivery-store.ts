import type { Knex } from 'knex';

/** One alert to one sink: the key of a delivery. */
export interface DeliveryKey {
  tenantId: string;
  alertId: number;
  sink: string;
}

export interface DeliveryClaim {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
}

const where = (k: DeliveryKey) => ({ tenant_id: k.tenantId, alert_id: k.alertId, sink: k.sink });

/**
 * Claims a delivery: the first claim creates it as pending; every claim returns its row as it stands, so a
 * retried activity sees what an earlier attempt already did.
 */
export async function claimDelivery(knex: Knex, k: DeliveryKey): Promise<DeliveryClaim> {
  await knex('notification_deliveries')
    .insert(where(k))
    .onConflict(['tenant_id', 'alert_id', 'sink'])
    .ignore();
  return (await knex('notification_deliveries').where(where(k)).first('status', 'attempts')) as DeliveryClaim;
}

export async function markDelivered(
  knex: Knex,
  k: DeliveryKey,
  r: { attempts: number; httpStatus: number },
): Promise<void> {
  await knex('notification_deliveries').where(where(k)).update({
    status: 'delivered',
    attempts: r.attempts,
    http_status: r.httpStatus,
    delivered_at: knex.fn.now(),
    last_error: null,
  });
}

/** Records a failed attempt; the delivery stays pending until it is marked failed. */
export async function recordFailedAttempt(
  knex: Knex,
  k: DeliveryKey,
  r: { attempts: number; httpStatus: number | null; lastError: string },
): Promise<void> {
  await knex('notification_deliveries')
    .where(where(k))
    .update({ attempts: r.attempts, http_status: r.httpStatus, last_error: r.lastError });
}

export async function markFailed(knex: Knex, k: DeliveryKey): Promise<void> {
  await knex('notification_deliveries').where(where(k)).update({ status: 'failed' });
}
