import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractWatch, expectContractKept } from '../../support/contract.js';
import { TENANT_ROLE } from '../../../src/db/migrations/20261122000001_initial_schema.js';
import { buildGateway } from '../../../src/gateway/server.js';
import { TokenStore } from '../../../src/gateway/tokens.js';
import { registerVersion, setChampion } from '../../../src/registry/registry.js';
import { changeRouting } from '../../../src/routing/store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const TOKENS = {
  acmeIngest: 'acme-ingest-token-0123456789',
  acmeOperator: 'acme-operator-token-012345678',
  globexIngest: 'globex-ingest-token-01234567',
  scraper: 'prometheus-scraper-token-0123',
};

describe('HTTP gateway (real HTTP on loopback, real Postgres)', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let contract: ContractWatch | undefined;
  // Every response of this file is checked against docs/openapi.json.
  afterAll(() => expectContractKept(contract));
  let base: string;
  const call = (path: string, token: string | undefined, body?: unknown, raw?: string) =>
    fetch(`${base}${path}`, {
      method: body === undefined && raw === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(async () => {
    db = await createTestDatabase('gateway');
    for (const tenantId of ['acme', 'globex']) {
      await registerVersion(db.knex, { tenantId, model: 'demand', version: '1.0.0', actor: 't' });
      await registerVersion(db.knex, { tenantId, model: 'demand', version: '1.1.0', actor: 't' });
      await setChampion(db.knex, { tenantId, model: 'demand', version: '1.0.0', actor: 't' });
    }
    await changeRouting(db.knex, {
      tenantId: 'acme',
      model: 'demand',
      change: { challenger: '1.1.0', mode: 'canary', weightBp: 10_000 },
      actor: 't',
    });
    const tokens = new TokenStore([
      { token: TOKENS.acmeIngest, name: 'acme-server', tenant: 'acme', roles: ['ingest'] },
      { token: TOKENS.acmeOperator, name: 'acme-ops', tenant: 'acme', roles: ['operator'] },
      { token: TOKENS.globexIngest, name: 'globex-server', tenant: 'globex', roles: ['ingest'] },
      { token: TOKENS.scraper, name: 'prometheus', tenant: 'ops', roles: ['metrics'] },
    ]);
    app = await buildGateway({ databaseUrl: db.url, tokens, bodyLimit: 64 * 1024, maxBatch: 500 });
    contract = await ContractWatch.watch(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('routes with the tenant of the token', async () => {
    const acme = await (
      await call('/v1/route', TOKENS.acmeIngest, { model: 'demand', requestId: 'r1' })
    ).json();
    expect(acme).toMatchObject({ serve: '1.1.0', via: 'challenger' });
    const globex = await (
      await call('/v1/route', TOKENS.globexIngest, { model: 'demand', requestId: 'r1' })
    ).json();
    expect(globex).toMatchObject({ serve: '1.0.0', via: 'champion' });
    const unknown = await call('/v1/route', TOKENS.acmeIngest, { model: 'nope', requestId: 'r1' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'unknown_model' });
  });

  it('refuses missing, wrong and under-privileged tokens', async () => {
    expect((await call('/v1/predictions', undefined, [])).status).toBe(401);
    expect((await call('/v1/predictions', 'x'.repeat(30), [])).status).toBe(401);
    expect((await call('/v1/predictions', TOKENS.acmeIngest.slice(0, -1) + 'X', [])).status).toBe(401);
    const forbidden = await call('/v1/predictions', TOKENS.acmeOperator, []);
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: string }).error).toMatch(/lacks the role ingest/);
  });

  it('stores the valid records of a batch and returns each rejected one with index, field and reason', async () => {
    const res = await call('/v1/predictions', TOKENS.acmeIngest, {
      records: [
        { requestId: 'a1', model: 'demand', version: '1.0.0', prediction: 10, latencyMs: 12 },
        { requestId: 'a2', model: 'demand', version: '1.0.0', prediction: 11, latencyMs: -1 },
        { requestId: 'a3', model: 'nope', version: '1.0.0', prediction: 11 },
        { requestId: "a4'; delete from predictions; --", model: 'demand', version: '1.1.0', prediction: 12 },
        { requestId: 'a5', model: 'demand', version: '1.0.0', prediction: 1, tenant_id: 'globex' },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { accepted: number; rejected: unknown[] };
    expect(body.accepted).toBe(2);
    expect(body.rejected).toEqual([
      { index: 1, field: 'latencyMs', reason: expect.any(String) },
      { index: 2, field: 'model', reason: expect.stringContaining('unknown model') },
      { index: 4, field: '(record)', reason: expect.stringContaining('tenant_id') },
    ]);
    // Durable: a 200 means the rows are in Postgres.
    const stored = await db
      .knex('predictions')
      .where({ tenant_id: 'acme' })
      .orderBy('request_id')
      .pluck('request_id');
    expect(stored).toEqual(['a1', "a4'; delete from predictions; --"]);
  });

  it('answers malformed JSON, oversized bodies, too many records and non-arrays with 4xx', async () => {
    expect((await call('/v1/predictions', TOKENS.acmeIngest, undefined, '{"records": [')).status).toBe(400);
    const big = await call('/v1/predictions', TOKENS.acmeIngest, {
      records: [{ requestId: 'x', model: 'demand', version: '1.0.0', prediction: 'y'.repeat(70_000) }],
    });
    expect(big.status).toBe(413);
    const many = await call(
      '/v1/predictions',
      TOKENS.acmeIngest,
      Array.from({ length: 501 }, (_, i) => ({ requestId: `m${i}` })),
    );
    expect(many.status).toBe(413);
    const notArray = await call('/v1/predictions', TOKENS.acmeIngest, { records: 'nope' });
    expect(notArray.status).toBe(400);
    expect(((await notArray.json()) as { error: string }).error).toMatch(/JSON array/);
  });

  it('keeps tenants apart: feedback from one tenant never touches the other’s rows', async () => {
    // globex sends feedback for acme's request id a1: it lands in globex's tenant and joins nothing of acme.
    const res = await call('/v1/feedback', TOKENS.globexIngest, [
      { model: 'demand', requestId: 'a1', actual: 1000 },
    ]);
    expect(((await res.json()) as { accepted: number }).accepted).toBe(1);
    expect(await db.knex('feedback').where({ request_id: 'a1' }).pluck('tenant_id')).toEqual(['globex']);
    expect(await db.knex('metric_rollups').where({ tenant_id: 'acme', metric: 'abs_error' })).toEqual([]);
    // acme's own feedback does join.
    await call('/v1/feedback', TOKENS.acmeIngest, [{ model: 'demand', requestId: 'a1', actual: 13 }]);
    expect(
      await db.knex('metric_rollups').where({ tenant_id: 'acme', metric: 'abs_error' }).first(),
    ).toMatchObject({ count: 1, sum: 3 });

    // And Postgres itself refuses cross-tenant access on the role the gateway writes as (into a day whose
    // partition exists, so that the row reaches the policy).
    const { day } = (await db.knex('feedback').first(db.knex.raw('day::text as day'))) as { day: string };
    await db.knex.transaction(async (trx) => {
      await trx.raw(`set local role ${TENANT_ROLE}`);
      await trx.raw(`select set_config('arena.tenant_id', 'globex', true)`);
      expect(await trx('predictions').where({ tenant_id: 'acme' })).toEqual([]);
      await expect(
        trx('feedback').insert({
          tenant_id: 'acme',
          model: 'demand',
          request_id: 'evil',
          actual: JSON.stringify(1),
          day,
        }),
      ).rejects.toThrow(/row-level security/);
    });
  });

  it('serves /healthz and Prometheus /metrics, naming no tenant or model to a caller without a token', async () => {
    const anonymous = await call('/healthz', undefined);
    expect(anonymous.status).toBe(200);
    const anonymousText = await anonymous.text();
    expect(JSON.parse(anonymousText)).toMatchObject({
      status: 'ok',
      database: { ok: true },
      writers: { total: 2, degraded: 0 },
    });
    expect(anonymousText).not.toMatch(/acme|globex|demand/);
    const own = await (await call('/healthz', TOKENS.acmeIngest)).json();
    expect(own).toMatchObject({ tenant: { id: 'acme', writer: { state: 'ok' } } });
    expect(JSON.stringify(own)).not.toMatch(/globex/);

    expect((await call('/metrics', undefined)).status).toBe(401);
    expect((await call('/metrics', TOKENS.acmeIngest)).status).toBe(403);
    const text = await (await call('/metrics', TOKENS.scraper)).text();
    expect(text).toMatch(/arena_ingest_records_total\{kind="predictions",tenant="acme"\} 2/);
    expect(text).toMatch(/arena_ingest_rejected_total\{kind="predictions",tenant="acme",field="model"\} 1/);
    expect(text).toMatch(/arena_router_generation\{tenant="acme",model="demand"\} 3/);
    expect(text).toMatch(/arena_ingest_batch_size_bucket/);
  });
});
