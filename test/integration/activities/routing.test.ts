import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routingActivities } from '../../../activities/routing.js';
import { createLogger } from '../../../src/log.js';
import { registerVersion } from '../../../src/registry/registry.js';
import type { RoutingEntry } from '../../../src/routing/table.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

describe('routing activities (real Postgres, activity context from @temporalio/testing)', () => {
  let db: TestDatabase;
  let acts: ReturnType<typeof routingActivities>;
  const env = new MockActivityEnvironment();
  beforeAll(async () => {
    db = await createTestDatabase('routing_activities');
    acts = routingActivities({
      knex: db.knex,
      clock: () => new Date(),
      log: createLogger('silent'),
      rollupBucketMs: 1000,
    });
    await registerVersion(db.knex, { model: 'm', version: '1.0.0', actor: 't' });
    await registerVersion(db.knex, { model: 'm', version: '1.1.0', actor: 't' });
  });
  afterAll(async () => db?.drop());

  it('applies a retried write once', async () => {
    await env.run(acts.promoteChampion, {
      model: 'm',
      version: '1.0.0',
      actor: 'wf',
      idempotencyKey: 'r1:bootstrap',
    });
    const input = {
      model: 'm',
      change: { challenger: '1.1.0', mode: 'canary' as const, weightBp: 500 },
      actor: 'wf',
      idempotencyKey: 'r1:stage:1',
    };
    const first = (await env.run(acts.setRouting, input)) as RoutingEntry;
    const retry = (await env.run(acts.setRouting, input)) as RoutingEntry;
    expect(retry.generation).toBe(first.generation);
    expect(await db.knex('routing_history').where({ model: 'm' }).count({ n: '*' }).first()).toEqual({
      n: 3,
    });
    const again = await env.run(acts.promoteChampion, {
      model: 'm',
      version: '1.0.0',
      actor: 'wf',
      idempotencyKey: 'r1:bootstrap',
    });
    expect((again as RoutingEntry).generation).toBe(first.generation);
  });

  it('turns bad data into a non-retryable failure typed by the error', async () => {
    const failure = await env
      .run(acts.setRouting, {
        model: 'm',
        change: { weightBp: 20000 },
        actor: 'wf',
        idempotencyKey: 'r1:bad',
      })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      nonRetryable: true,
      type: 'InvalidInputError',
      message: expect.stringContaining('weightBp=20000'),
    });
    const unknown = await env.run(acts.getRouting, 'nope').catch((err: unknown) => err);
    expect(unknown).toMatchObject({ nonRetryable: true, type: 'UnknownModelError' });
  });
});
