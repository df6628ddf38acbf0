import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContractWatch, expectContractKept } from '../support/contract.js';
import { ArenaClient } from '../../src/client/arena-client.js';
import { buildGateway } from '../../src/gateway/server.js';
import { TokenStore } from '../../src/gateway/tokens.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { eventually } from '../support/weather-model.js';

const T = {
  alice: 'alice-approver-token-0123456789',
  olga: 'olga-operator-token-0123456789',
  ivan: 'ivan-ingest-token-01234567890',
  mallory: 'mallory-acme-approver-token-012',
  pipeline: 'pipeline-registrar-token-0123456',
  olgaApprover: 'olga-as-approver-token-01234567',
};

describe('gateway: alerts, rollout actions and model health behind roles and tenants', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let app: FastifyInstance;
  let contract: ContractWatch | undefined;
  // Every response of this file is checked against docs/openapi.json.
  afterAll(() => expectContractKept(contract));
  let base: string;
  const call = async (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & Array<Record<string, unknown>>,
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase('gateway_people');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    const tokens = new TokenStore([
      { token: T.alice, name: 'alice', tenant: 'default', roles: ['approver'] },
      { token: T.olga, name: 'olga', tenant: 'default', roles: ['operator'] },
      { token: T.ivan, name: 'ivan', tenant: 'default', roles: ['ingest'] },
      { token: T.mallory, name: 'mallory', tenant: 'acme', roles: ['approver', 'operator'] },
      { token: T.pipeline, name: 'pipeline', tenant: 'default', roles: ['registrar'] },
      // The same person with a second token: separation of duties follows the name, not the token.
      { token: T.olgaApprover, name: 'olga', tenant: 'default', roles: ['approver'] },
    ]);
    app = await buildGateway({
      databaseUrl: db.url,
      tokens,
      people: { knex: db.knex, temporal: { client: temporal.client, taskQueue: temporal.taskQueue } },
    });
    contract = await ContractWatch.watch(app);
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app?.close();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
  });

  it('approves a rollout through its alert as the token’s person, and keeps tenants apart', async () => {
    await registerVersion(db.knex, { model: 'fraud', version: '1.0.0', actor: 't' });
    await registerVersion(db.knex, { model: 'fraud', version: '2.0.0', actor: 't' });
    await setChampion(db.knex, { model: 'fraud', version: '1.0.0', actor: 't' });
    const arena = new ArenaClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
      workflowIdPrefix: `rollout-${temporal.taskQueue.slice(-8)}`,
    });
    const { rolloutId } = await arena.startRollout({
      model: 'fraud',
      challenger: '2.0.0',
      proposedBy: 'dana',
      policy: { stages: [{ mode: 'shadow', duration: '10m' }] },
    });
    await eventually(
      'awaiting approval',
      async () => (await arena.status(rolloutId)).state === 'awaiting_approval',
    );
    // The rollout's own event asks for the approval (approval_requested, a warning).
    const alert = (await eventually('the approval_requested alert', async () =>
      db.knex('alerts').where({ rollout_id: rolloutId, type: 'approval_requested' }).first('id'),
    )) as { id: string };
    const id = Number(alert.id);

    expect((await call('GET', '/v1/alerts', T.ivan)).status).toBe(403);
    expect((await call('GET', '/v1/alerts', T.mallory)).body).toEqual([]); // another tenant sees nothing
    expect((await call('POST', `/v1/alerts/${id}/approve`, T.mallory, {})).status).toBe(404);
    expect((await call('GET', `/v1/rollouts/${rolloutId}`, T.mallory)).status).toBe(404);

    const listed = await call('GET', '/v1/alerts?severity=warning', T.olga);
    expect(listed.body.map((a) => a.id)).toEqual([id]);
    expect((await call('GET', '/v1/alerts/stats', T.olga)).body).toMatchObject({
      unread: { warning: 1, critical: 0 },
    });
    expect((await call('GET', '/v1/alerts?severity=urgent', T.olga)).body).toMatchObject({
      error: expect.stringContaining('severity="urgent"'),
    });
    expect((await call('POST', `/v1/alerts/${id}/approve`, T.olga, {})).status).toBe(403); // operators do not approve

    const approved = await call('POST', `/v1/alerts/${id}/approve`, T.alice, {
      comment: 'looks right',
      by: 'someone-else',
    });
    expect(approved.status).toBe(400); // the actor is the token's, never a body field
    const ok = await call('POST', `/v1/alerts/${id}/approve`, T.alice, { comment: 'looks right' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({
      action: 'approve',
      rolloutId,
      alert: { status: 'actioned', actionedBy: 'alice' },
    });
    expect(await db.knex('approvals').where({ subject_id: rolloutId }).select('actor', 'comment')).toEqual([
      { actor: 'alice', comment: 'looks right' },
    ]);
    const again = await call('POST', `/v1/alerts/${id}/approve`, T.alice, {});
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'refused' });

    await eventually(
      'shadow',
      async () => (await call('GET', `/v1/rollouts/${rolloutId}`, T.olga)).body.state === 'shadow',
    );
    expect((await call('POST', `/v1/rollouts/${rolloutId}/abort`, T.olga, {})).status).toBe(400);
    expect((await call('POST', `/v1/rollouts/${rolloutId}/abort`, T.alice, { reason: 'x' })).status).toBe(
      403,
    );
    const aborted = await call('POST', `/v1/rollouts/${rolloutId}/abort`, T.olga, {
      reason: 'wrong threshold',
    });
    expect(aborted.status, JSON.stringify(aborted.body)).toBe(200);
    await arena.result(rolloutId);

    const health = await call('GET', '/v1/models/fraud/health', T.olga);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ model: 'fraud', champion: { version: '1.0.0' } });
    expect((await call('GET', '/v1/models/fraud/health', T.mallory)).status).toBe(404);
  }, 60_000);

  it('runs a rollout over HTTP only: register, champion, start with a policy, approve, report, abort', async () => {
    const model = `http-${temporal.taskQueue.slice(-8)}`;
    for (const version of ['1.0.0', '1.1.0'])
      expect((await call('POST', `/v1/models/${model}/versions`, T.pipeline, { version })).status).toBe(201);
    expect((await call('POST', `/v1/models/${model}/champion`, T.olga, { version: '1.0.0' })).status).toBe(
      200,
    );

    const badPolicy = await call('POST', '/v1/rollouts', T.olga, {
      model,
      challenger: '1.1.0',
      policy: { stages: [{ mode: 'canary', weight: 150, duration: '1m' }] },
    });
    expect(badPolicy.status).toBe(400);
    expect(badPolicy.body.error).toMatch(/policy\.stages\.0\.weight.*150/);
    expect((await call('POST', '/v1/rollouts', T.pipeline, { model, challenger: '1.1.0' })).status).toBe(403);

    const started = await call('POST', '/v1/rollouts', T.olga, {
      model,
      challenger: '1.1.0',
      policy: { stages: [{ mode: 'shadow', duration: '10m' }] },
    });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const rolloutId = started.body.rolloutId as string;
    const second = await call('POST', '/v1/rollouts', T.olga, { model, challenger: '1.1.0' });
    expect(second.status, JSON.stringify(second.body)).toBe(409);

    await eventually(
      'awaiting approval',
      async () => (await call('GET', `/v1/rollouts/${rolloutId}`, T.olga)).body.state === 'awaiting_approval',
    );
    const listed = await call('GET', `/v1/rollouts?model=${model}&state=awaiting_approval`, T.olga);
    expect(listed.body).toEqual([
      expect.objectContaining({ rolloutId, proposedBy: 'olga', challenger: '1.1.0' }),
    ]);
    expect((await call('GET', `/v1/rollouts?state=flying`, T.olga)).status).toBe(400);

    // The proposer is the token's person: approving their own rollout is refused, whichever token they use.
    const own = await call('POST', `/v1/rollouts/${rolloutId}/approve`, T.olgaApprover, {});
    expect(own.status).toBe(409);
    expect(own.body.error).toContain('separation of duties');
    const approved = await call('POST', `/v1/rollouts/${rolloutId}/approve`, T.alice, { comment: 'ok' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.approvals).toEqual([expect.objectContaining({ by: 'alice', comment: 'ok' })]);

    const report = await fetch(`${base}/v1/rollouts/${rolloutId}/report`, {
      headers: { authorization: `Bearer ${T.olga}` },
    });
    expect(report.status).toBe(200);
    expect(report.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await report.text()).toContain(rolloutId);

    expect(
      (await call('POST', `/v1/rollouts/${rolloutId}/abort`, T.olga, { reason: 'done testing' })).status,
    ).toBe(200);
    // Withdrawn while it waited for approval: aborted, and the version may be rolled out again.
    await eventually(
      'aborted',
      async () => (await call('GET', `/v1/rollouts/${rolloutId}`, T.olga)).body.state === 'aborted',
    );
    // The row's end is recorded a moment after the workflow's state moves (docs/rollouts.md).
    await eventually(
      'no active rollout listed',
      async () => (await call('GET', `/v1/rollouts?model=${model}&active=true`, T.olga)).body.length === 0,
    );
    const routing = await call('GET', `/v1/routing/${model}`, T.ivan);
    expect(routing.body).toMatchObject({ champion: '1.0.0', weightBp: 0 });
    const version = async () =>
      (await call('GET', `/v1/models/${model}/versions/1.1.0`, T.olga)).body.status as string;
    expect(await version()).toBe('candidate');

    // Retry over HTTP: a new rollout of the same version, linked to the aborted one; then abort it for good.
    expect((await call('POST', `/v1/rollouts/${rolloutId}/retry`, T.pipeline, {})).status).toBe(403);
    const retried = await call('POST', `/v1/rollouts/${rolloutId}/retry`, T.olga, { reason: 'second try' });
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.body).toMatchObject({ retryOf: rolloutId });
    const retryId = retried.body.rolloutId as string;
    await eventually(
      'retry awaiting approval',
      async () => (await call('GET', `/v1/rollouts/${retryId}`, T.olga)).body.state === 'awaiting_approval',
    );
    expect((await call('POST', `/v1/rollouts/${retryId}/pause`, T.olga, { reject: true })).status).toBe(400);
    const final = await call('POST', `/v1/rollouts/${retryId}/abort`, T.olga, {
      reason: 'not this one',
      reject: true,
    });
    expect(final.status, JSON.stringify(final.body)).toBe(200);
    await eventually(
      'retry ended',
      async () => (await call('GET', `/v1/rollouts/${retryId}`, T.olga)).body.state === 'rejected',
    );
    await eventually('version rejected', async () => (await version()) === 'rejected');
    const again = await call('POST', `/v1/rollouts/${retryId}/retry`, T.olga, {});
    expect(again.status, JSON.stringify(again.body)).toBe(400);
    expect(again.body.error).toMatch(/was rejected/);

    // Evidence on demand: a drift check runs as a workflow of the tenant's model and stores what it measured.
    const check = await call('POST', `/v1/models/${model}/drift-checks`, T.olga);
    expect(check.status, JSON.stringify(check.body)).toBe(202);
    const outcome = (await temporal.client.workflow.getHandle(check.body.workflowId as string).result()) as {
      drifted: boolean;
    };
    expect(outcome.drifted).toBe(false);
  }, 60_000);

  it('proposes, approves and lists an experiment over HTTP, with separation of duties by person', async () => {
    const model = `exp-${temporal.taskQueue.slice(-8)}`;
    for (const version of ['1.0.0', '1.1.0'])
      expect((await call('POST', `/v1/models/${model}/versions`, T.pipeline, { version })).status).toBe(201);
    const bad = await call('POST', '/v1/experiments', T.olga, {
      name: 'x',
      hypothesis: 'y',
      segments: [],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^body\.segments/);
    const proposed = await call('POST', '/v1/experiments', T.olga, {
      name: 'wider features',
      hypothesis: 'adding humidity lowers MAE by 5%',
      type: 'feature_engineering',
      expectedImprovement: 0.05,
      segments: [{ segment: 'all', model, challenger: '1.1.0' }],
    });
    expect(proposed.status, JSON.stringify(proposed.body)).toBe(201);
    const id = proposed.body.experimentId as string;
    const own = await call('POST', `/v1/experiments/${id}/approve`, T.olgaApprover, {});
    expect(own.status).toBe(409);
    expect(own.body.error).toContain('olga proposed');
    const approved = await call('POST', `/v1/experiments/${id}/approve`, T.alice, { comment: 'go' });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ state: 'approved', proposer: 'olga', approver: 'alice' });
    expect((await call('POST', `/v1/experiments/${id}/reject`, T.alice, {})).status).toBe(409);
    expect((await call('GET', `/v1/experiments/${id}`, T.olga)).body).toMatchObject({
      experimentId: id,
      state: 'approved',
    });
    expect((await call('GET', '/v1/experiments?status=approved', T.olga)).body).toEqual(
      expect.arrayContaining([expect.objectContaining({ experimentId: id, proposer: 'olga' })]),
    );
    expect((await call('GET', '/v1/experiments?status=done', T.olga)).status).toBe(400);
    expect((await call('GET', `/v1/experiments/${id}`, T.mallory)).status).toBe(404);
  }, 60_000);
});
