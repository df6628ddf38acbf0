import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAlert } from '../../../src/alerts/alert-store.js';
import {
  claimDelivery,
  markDelivered,
  markFailed,
  recordFailedAttempt,
} from '../../../src/notify/delivery-store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('notification delivery store (real Postgres)', () => {
  let db: TestDatabase;
  let alertId: number;
  beforeAll(async () => {
    db = await createTestDatabase('delivery_store');
    alertId = await insertAlert(db.knex, {
      tenantId: 'default',
      type: 'drift_detected',
      severity: 'critical',
      model: 'm',
      rolloutId: null,
      title: 'drift',
      details: {},
      dedupeKey: 'drift-1',
    });
  });
  afterAll(async () => db?.drop());

  const row = (sink: string) =>
    db.knex('notification_deliveries').where({ tenant_id: 'default', alert_id: alertId, sink }).first();

  it('claims a delivery once as pending, and a later claim sees what happened to it', async () => {
    const key = { tenantId: 'default', alertId, sink: 'ops' };
    expect(await claimDelivery(db.knex, key)).toEqual({ status: 'pending', attempts: 0 });
    await recordFailedAttempt(db.knex, key, { attempts: 1, httpStatus: 503, lastError: 'HTTP 503: busy' });
    expect(await row('ops')).toMatchObject({
      status: 'pending',
      attempts: 1,
      http_status: 503,
      last_error: 'HTTP 503: busy',
    });
    await markDelivered(db.knex, key, { attempts: 2, httpStatus: 200 });
    const delivered = await row('ops');
    expect(delivered).toMatchObject({ status: 'delivered', attempts: 2, http_status: 200, last_error: null });
    expect(delivered.delivered_at).toBeInstanceOf(Date);
    expect(await claimDelivery(db.knex, key)).toEqual({ status: 'delivered', attempts: 2 });
  });

  it('marks a delivery failed after its attempts, keeping the last error', async () => {
    const key = { tenantId: 'default', alertId, sink: 'slack' };
    await claimDelivery(db.knex, key);
    await recordFailedAttempt(db.knex, key, { attempts: 1, httpStatus: null, lastError: 'connect refused' });
    await markFailed(db.knex, key);
    expect(await row('slack')).toMatchObject({
      status: 'failed',
      attempts: 1,
      http_status: null,
      last_error: 'connect refused',
      delivered_at: null,
    });
    expect(await claimDelivery(db.knex, key)).toEqual({ status: 'failed', attempts: 1 });
  });
});
