import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractWatch, expectContractKept } from '../../support/contract.js';
import { buildGateway } from '../../../src/gateway/server.js';
import { TokenStore } from '../../../src/gateway/tokens.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const OPERATOR = 'input-operator-token-0123456789';

/**
 * The people routes refuse malformed path ids, query parameters and body text with a 400 naming the
 * parameter and the value, before anything reaches PostgreSQL (where a bigint overflow or a NUL byte would
 * be a 500). No Temporal connection: these are refused before one would be needed.
 */
describe('gateway people routes: path ids, query parameters and text PostgreSQL cannot store', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let contract: ContractWatch | undefined;
  // Every response of this file is checked against docs/openapi.json.
  afterAll(() => expectContractKept(contract));
  let base: string;
  let alertId: string;
  const call = async (path: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) => {
    const res = await fetch(`${base}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${OPERATOR}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    return { status: res.status, body: (await res.json()) as { error?: string } & Array<{ id: number }> };
  };

  beforeAll(async () => {
    db = await createTestDatabase('gateway_people_input');
    const tokens = new TokenStore([
      { token: OPERATOR, name: 'olga', tenant: 'default', roles: ['operator'] },
    ]);
    app = await buildGateway({ databaseUrl: db.url, tokens, people: { knex: db.knex } });
    contract = await ContractWatch.watch(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    for (const n of [1, 2, 3]) {
      await db.knex('alerts').insert({
        type: 'drift_detected',
        severity: 'warning',
        model: 'fraud',
        title: `drift ${n}`,
        dedupe_key: `input-test-${n}`,
      });
    }
    alertId = String(((await db.knex('alerts').min('id as id').first()) as { id: string }).id);
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('serves a well-formed alert id, and answers 404 for an id in range that does not exist', async () => {
    expect((await call(`/v1/alerts/${alertId}`)).status).toBe(200);
    const missing = await call('/v1/alerts/9223372036854775807');
    expect(missing.status, JSON.stringify(missing.body)).toBe(404);
    expect(missing.body).toMatchObject({ code: 'not_found', hint: 'List alerts: arena alerts list' });
    expect((await call('/v1/alerts/9007199254740993')).status).toBe(404); // past 2^53, not rounded
  });

  it.each([
    ['99999999999999999999', '"99999999999999999999"'],
    ['9223372036854775808', '"9223372036854775808"'],
    ['0x2', '"0x2"'],
    ['1e2', '"1e2"'],
    ['2.0', '"2.0"'],
    ['-1', '"-1"'],
    ['0', '"0"'],
    ['%201', '" 1"'],
    ['1%00', '"1\\u0000"'],
  ])('GET /v1/alerts/%s → 400 naming the id and its value', async (id, shown) => {
    const res = await call(`/v1/alerts/${id}`);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toContain(`params.id=${shown}`);
  });

  it('refuses the same ids on the alert actions', async () => {
    expect((await call('/v1/alerts/99999999999999999999/read', { method: 'POST', body: '{}' })).status).toBe(
      400,
    );
    expect((await call('/v1/alerts/1%00/dismiss', { method: 'POST', body: '{}' })).status).toBe(400);
    expect((await call('/v1/alerts/0x2/read', { method: 'POST', body: '{}' })).status).toBe(400);
  });

  it.each(['1e2', '0x2', '2.0', '+2', '%202', '0', '1001', '1%00'])(
    'GET /v1/alerts?limit=%s → 400 naming the parameter',
    async (limit) => {
      const res = await call(`/v1/alerts?limit=${limit}`);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatch(/^query\.limit=/);
    },
  );

  it('takes a strict limit, and refuses a repeated one', async () => {
    const two = await call('/v1/alerts?limit=2');
    expect(two.status).toBe(200);
    expect(two.body).toHaveLength(2);
    expect((await call('/v1/alerts?limit=1&limit=2')).status).toBe(400);
  });

  it('refuses NUL bytes and lone surrogates in every other parameter with a 400, never a 500', async () => {
    for (const path of [
      '/v1/alerts?model=fraud%00',
      '/v1/alerts?type=%00',
      '/v1/alerts?status=unread%00',
      '/v1/rollouts/r-1%00',
      '/v1/models/fraud%00/health',
    ]) {
      const res = await call(path);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error).toMatch(/\\u0000/);
    }
    // Bytes that are not UTF-8 at all (a percent-encoded surrogate half) are decoded as U+FFFD or refused,
    // never passed on as a lone surrogate.
    for (const path of [
      '/v1/alerts?model=%ED%A0%80',
      '/v1/models/%ED%A0%80/health',
      '/v1/rollouts/%ED%A0%80',
    ]) {
      const res = await call(path);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
    }
    // In a JSON body, \u0000 and a lone \ud800 are valid JSON but not storable text.
    for (const reason of ['"bad\\u0000reason"', '"\\ud800"']) {
      const res = await call(`/v1/alerts/${alertId}/dismiss`, {
        method: 'POST',
        body: `{"reason":${reason}}`,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toMatch(/^body\.reason=.*(NUL|surrogate)/);
    }
    // Nothing above reached the database: the alert is still unread.
    expect(((await call(`/v1/alerts/${alertId}`)).body as unknown as { status: string }).status).toBe(
      'unread',
    );
  });
});
