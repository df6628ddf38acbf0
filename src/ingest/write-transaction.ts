import type pg from 'pg';
import { TENANT_ROLE } from '../db/migrations/20261122000001_initial_schema.js';

export async function beginAs(
  client: pg.PoolClient,
  tenantId: string,
  enforceTenant: boolean | undefined,
): Promise<void> {
  if (!enforceTenant) {
    await client.query('begin');
    return;
  }
  // One round trip instead of three: every batch through the gateway starts this way, and each round trip
  // wakes a Postgres backend. Without parameters a query may hold several statements; the tenant id is
  // quoted by the driver.
  await client.query(
    `begin; set local role ${TENANT_ROLE}; select set_config('arena.tenant_id', ${client.escapeLiteral(tenantId)}, true)`,
  );
}

/**
 * A pooled client for one write. While checked out, a client whose server goes away emits 'error'; without
 * a listener that ends the process (seen with `pg_ctl stop -m fast` during a COPY). The listener keeps the
 * process alive, and a failed client is destroyed rather than returned to the pool.
 */
export async function checkOut(
  pool: pg.Pool,
): Promise<{ client: pg.PoolClient; release: (err?: unknown) => void }> {
  const client = await pool.connect();
  const swallow = (): void => undefined;
  client.on('error', swallow);
  let released = false;
  return {
    client,
    release(err?: unknown) {
      if (released) return;
      released = true;
      client.off('error', swallow);
      client.release(err instanceof Error ? err : undefined);
    },
  };
}

export async function commit(client: pg.PoolClient): Promise<void> {
  await client.query('commit');
}

export async function rollback(client: pg.PoolClient): Promise<void> {
  await client.query('rollback');
}
