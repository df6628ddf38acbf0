import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildGateway } from '../../../src/gateway/server.js';
import { TokenStore } from '../../../src/gateway/tokens.js';
import { ContractWatch, expectContractKept } from '../../support/contract.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const T = {
  registrar: 'lifecycle-registrar-token-0123456789',
  operator: 'lifecycle-operator-token-0123456789',
  auditor: 'lifecycle-auditor-token-0123456789',
  ingest: 'lifecycle-ingest-token-0123456789',
  otherTenant: 'lifecycle-other-tenant-token-0123',
};
const DIGEST = 'a'.repeat(64);

/**
 * The registry, the routing table and the audit log over HTTP, with a real Postgres: roles per route,
 * tenant scoping, idempotent registration, the routing entry's ETag, and every answer checked against the
 * OpenAPI document.
 */
describe('gateway lifecycle routes: models, versions, champions, routing, audit', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let base: string;
  let contract: ContractWatch | undefined;
  afterAll(() => expectContractKept(contract));

  const call = async (
    method: 'GET' | 'POST',
    path: string,
    token: string | null,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(async () => {
    db = await createTestDatabase('gateway_lifecycle');
    const tokens = new TokenStore([
      { token: T.registrar, name: 'pipeline', tenant: 'default', roles: ['registrar'] },
      { token: T.operator, name: 'olga', tenant: 'default', roles: ['operator'] },
      { token: T.auditor, name: 'audrey', tenant: 'default', roles: ['auditor'] },
      { token: T.ingest, name: 'server', tenant: 'default', roles: ['ingest'] },
      { token: T.otherTenant, name: 'mallory', tenant: 'other', roles: ['operator', 'registrar', 'auditor'] },
    ]);
    app = await buildGateway({ databaseUrl: db.url, tokens, people: { knex: db.knex } });
    contract = await ContractWatch.watch(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('registers versions idempotently: 201, then 200 for the same details, 409 for different ones', async () => {
    const v1 = {
      version: '1.0.0',
      artifactUri: 'file:///m/1.0.0',
      artifactDigest: DIGEST,
      metrics: { mae: 2.1 },
    };
    const first = await call('POST', '/v1/models/demand/versions', T.registrar, {
      ...v1,
      description: 'daily demand',
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      model: 'demand',
      version: '1.0.0',
      status: 'candidate',
      artifactDigest: DIGEST,
    });
    expect((await call('POST', '/v1/models/demand/versions', T.registrar, v1)).status).toBe(200);
    const clash = await call('POST', '/v1/models/demand/versions', T.registrar, {
      ...v1,
      artifactDigest: 'b'.repeat(64),
    });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({
      code: 'conflict',
      error: expect.stringContaining('different artifact_digest'),
    });
    expect(
      (
        await call('POST', '/v1/models/demand/versions', T.registrar, {
          version: '1.1.0',
          parentVersion: '1.0.0',
        })
      ).status,
    ).toBe(201);
    // The pipeline's name is the actor in the ledger.
    const audit = await call('GET', '/v1/audit?model=demand&entityType=model_version', T.auditor);
    expect(audit.status).toBe(200);
    expect(audit.body.map((r: { actor: string; action: string }) => `${r.actor}:${r.action}`)).toEqual([
      'pipeline:model.register',
      'pipeline:model.register',
    ]);
  });

  it('refuses bad input with the field and the value, and unknown fields', async () => {
    const bad = await call('POST', '/v1/models/demand/versions', T.registrar, {
      version: '2.0.0',
      artifactDigest: 'nope',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('body.artifactDigest="nope": must be a SHA-256 hex digest');
    const extra = await call('POST', '/v1/models/demand/versions', T.registrar, {
      version: '2.0.0',
      note: 'x',
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error).toMatch(/^body: Unrecognized key.*note/);
    const version = await call('POST', '/v1/models/demand/versions', T.registrar, { version: 'not-semver' });
    expect(version.status).toBe(400);
    expect(version.body.error).toContain('not-semver');
    const nul = await call('POST', '/v1/models/demand/champion', T.operator, { version: '1.0.0\u0000' });
    expect(nul.status).toBe(400);
    expect(nul.body.error).toMatch(/^body\.version="1\.0\.0\\u0000": .*NUL/);
  });

  it('checks roles before input: 401 without a token, 403 without the role', async () => {
    expect((await call('POST', '/v1/models/demand/versions', null, { version: 'x' })).status).toBe(401);
    const denied = await call('POST', '/v1/models/demand/versions', T.auditor, { version: 'x' });
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatch(/lacks the role registrar or operator/);
    expect((await call('POST', '/v1/models/demand/champion', T.registrar, { version: '1.0.0' })).status).toBe(
      403,
    );
    expect((await call('GET', '/v1/audit', T.operator)).status).toBe(403);
  });

  it('sets the champion, answers the champion at a time, and shows the model', async () => {
    const before = new Date().toISOString();
    const set = await call('POST', '/v1/models/demand/champion', T.operator, {
      version: '1.0.0',
      reason: 'bootstrap',
    });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ model: 'demand', champion: '1.0.0', mode: 'off' });
    const at = await call(
      'GET',
      `/v1/models/demand/champion-at?at=${encodeURIComponent(new Date().toISOString())}`,
      T.auditor,
    );
    expect(at.body).toMatchObject({ model: 'demand', champion: '1.0.0' });
    const earlier = await call(
      'GET',
      `/v1/models/demand/champion-at?at=${encodeURIComponent('2000-01-01T00:00:00Z')}`,
      T.auditor,
    );
    expect(earlier.body.champion).toBeNull();
    expect((await call('GET', '/v1/models/demand/champion-at?at=yesterday', T.auditor)).status).toBe(400);
    const shown = await call('GET', '/v1/models/demand', T.registrar);
    expect(shown.body.routing.champion).toBe('1.0.0');
    expect(
      shown.body.versions.map((v: { version: string; status: string }) => `${v.version}:${v.status}`),
    ).toEqual(expect.arrayContaining(['1.0.0:champion', '1.1.0:candidate']));
    expect((await call('GET', '/v1/models', T.auditor)).body).toEqual([
      expect.objectContaining({ model: 'demand', champion: '1.0.0', versions: 2 }),
    ]);
    expect((await call('GET', '/v1/models/demand/versions/1.1.0', T.operator)).body.parentVersion).toBe(
      '1.0.0',
    );
    expect(before < new Date().toISOString()).toBe(true);
  });

  it("serves a model's routing with its generation as ETag, 304 while unchanged, a new ETag after a change", async () => {
    const first = await call('GET', '/v1/routing/demand', T.ingest);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toBe(`"${first.body.generation}"`);
    const again = await call('GET', '/v1/routing/demand', T.ingest, undefined, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBeUndefined();
    expect(
      (await call('GET', '/v1/routing/demand', T.ingest, undefined, { 'if-none-match': `W/${etag}, "x"` }))
        .status,
    ).toBe(304);

    const changed = await call('POST', '/v1/routing/demand', T.operator, {
      challenger: '1.1.0',
      mode: 'canary',
      weightBp: 2500,
      reason: 'manual canary',
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ challenger: '1.1.0', mode: 'canary', weightBp: 2500 });
    const fresh = await call('GET', '/v1/routing/demand', T.ingest, undefined, { 'if-none-match': etag });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('etag')).toBe(`"${changed.body.generation}"`);
    expect(changed.body.generation).toBeGreaterThan(first.body.generation);
    expect((await call('GET', '/v1/routing', T.ingest)).body).toHaveLength(1);
    const history = await call('GET', '/v1/routing/demand/history', T.auditor);
    expect(history.status).toBe(200);
    expect(history.body.at(-1)).toMatchObject({
      generation: changed.body.generation,
      challenger: '1.1.0',
      weightBp: 2500,
      changedBy: 'olga',
      reason: 'manual canary',
    });
    expect(history.body.map((h: { generation: number }) => h.generation)).toEqual(
      [...history.body.map((h: { generation: number }) => h.generation)].sort((a, b) => a - b),
    );
    const badWeight = await call('POST', '/v1/routing/demand', T.operator, { weightBp: 20000 });
    expect(badWeight.status).toBe(400);
    expect(badWeight.body.error).toMatch(/^body\.weightBp=20000: /);
  });

  it("keeps tenants apart: another tenant's token sees no model and cannot register over it", async () => {
    expect((await call('GET', '/v1/models/demand', T.otherTenant)).status).toBe(404);
    expect((await call('GET', '/v1/routing/demand', T.otherTenant)).status).toBe(404);
    expect((await call('GET', '/v1/models', T.otherTenant)).body).toEqual([]);
    expect((await call('GET', '/v1/audit', T.otherTenant)).body).toEqual([]);
    expect(
      (await call('GET', '/v1/models/demand/champion-at?at=2030-01-01T00:00:00Z', T.otherTenant)).status,
    ).toBe(404);
  });

  it('reads the audit log with filters and a strict limit', async () => {
    const all = await call('GET', '/v1/audit', T.auditor);
    expect(all.body.length).toBeGreaterThanOrEqual(4);
    const byOlga = await call('GET', '/v1/audit?actor=olga', T.auditor);
    expect(byOlga.body.every((r: { actor: string }) => r.actor === 'olga')).toBe(true);
    expect(byOlga.body.length).toBeGreaterThan(0);
    expect((await call('GET', '/v1/audit?limit=1', T.auditor)).body).toHaveLength(1);
    const badLimit = await call('GET', '/v1/audit?limit=1e3', T.auditor);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error).toMatch(/^query\.limit="1e3"/);
    expect((await call('GET', '/v1/audit?since=tomorrow', T.auditor)).status).toBe(400);
  });

  it("lists and shows retraining jobs of the token's tenant only; starting one without Temporal is a 503", async () => {
    for (const [id, tenant] of [
      ['job-default-1', 'default'],
      ['job-other-1', 'other'],
    ] as const)
      await db.knex('retraining_jobs').insert({
        id,
        tenant_id: tenant,
        model: 'demand',
        trigger: 'manual',
        status: 'pending',
        backend: 'process',
        params: JSON.stringify({ reason: 'test' }),
      });
    const listed = await call('GET', '/v1/retraining?model=demand', T.operator);
    expect(listed.body.map((j: { jobId: string }) => j.jobId)).toEqual(['job-default-1']);
    expect((await call('GET', '/v1/retraining/job-default-1', T.auditor)).body).toMatchObject({
      jobId: 'job-default-1',
      status: 'pending',
      trigger: 'manual',
    });
    expect((await call('GET', '/v1/retraining/job-other-1', T.operator)).status).toBe(404);
    expect((await call('GET', '/v1/retraining?limit=0', T.operator)).status).toBe(400);
    const start = await call('POST', '/v1/models/demand/retrain', T.operator, { trigger: 'manual' });
    expect(start.status).toBe(503);
    expect(start.body.hint).toMatch(/Temporal/);
    const badTrigger = await call('POST', '/v1/models/demand/retrain', T.operator, { trigger: 'whim' });
    expect(badTrigger.status).toBe(400);
    expect(badTrigger.body.error).toMatch(/^body\.trigger="whim"/);
    expect((await call('POST', '/v1/models/demand/retrain', T.registrar, {})).status).toBe(403);
  });

  it("reads backtest series and drift statistics of the tenant's model; runs need Temporal (503 here)", async () => {
    await db.knex('backtest_results').insert({
      tenant_id: 'default',
      model: 'demand',
      version: '1.0.0',
      window_start: '2026-11-01',
      window_end: '2026-11-07',
      n: 7,
      mae: 1.5,
      mape: null,
      bias: -0.2,
    });
    await db.knex('drift_reports').insert({
      tenant_id: 'default',
      model: 'demand',
      version: '1.0.0',
      feature: 'temp_c',
      method: 'psi',
      statistic: 0.31,
      p_value: null,
      threshold: 0.2,
      drifted: true,
      windows: JSON.stringify({ recent: 500 }),
      check_id: 'check-1',
    });
    expect((await call('GET', '/v1/models/demand/backtests', T.auditor)).body).toEqual([
      {
        version: '1.0.0',
        windowStart: '2026-11-01',
        windowEnd: '2026-11-07',
        n: 7,
        mae: 1.5,
        mape: null,
        bias: -0.2,
      },
    ]);
    const drift = await call('GET', '/v1/models/demand/drift?limit=10', T.operator);
    expect(drift.body).toEqual([
      expect.objectContaining({
        feature: 'temp_c',
        method: 'psi',
        statistic: 0.31,
        drifted: true,
        checkId: 'check-1',
      }),
    ]);
    expect(
      (await call('GET', '/v1/models/demand/drift?since=2099-01-01T00:00:00Z', T.operator)).body,
    ).toEqual([]);
    expect((await call('GET', '/v1/models/demand/backtests', T.otherTenant)).status).toBe(404);
    expect((await call('GET', '/v1/models/demand/drift', T.otherTenant)).status).toBe(404);
    expect(
      (await call('POST', '/v1/models/demand/backtests', T.operator, { asOf: '2026-13-01x' })).status,
    ).toBe(400);
    expect((await call('POST', '/v1/models/demand/backtests', T.operator, { lookbackDays: 30 })).status).toBe(
      503,
    );
    expect((await call('POST', '/v1/models/demand/drift-checks', T.operator)).status).toBe(503);
  });
});
