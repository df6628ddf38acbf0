import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/policy/policy.js';
import {
  activeRolloutOfModel,
  getRolloutRow,
  getRolloutRun,
  insertRollout,
  insertRolloutEvent,
  isRolloutRecorded,
  latestAnalysis,
  latestRolloutOfChallenger,
  latestRolloutOfModel,
  listAnalyses,
  listRolloutEvents,
  listRollouts,
  rolloutIdsOfModel,
  rolloutsOfModelBetween,
  setRolloutState,
  storeAnalysis,
} from '../../../src/rollout/store.js';
import type { AnalysisVerdict, RolloutInput } from '../../../src/rollout/types.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const input = (rolloutId: string, extra: Partial<RolloutInput> = {}): RolloutInput => ({
  rolloutId,
  tenantId: 'default',
  model: 'm',
  champion: '1.0.0',
  challenger: '1.1.0',
  policy: DEFAULT_POLICY,
  proposedBy: 'ana',
  ...extra,
});

const verdict = (seq: number, decision: AnalysisVerdict['decision']): AnalysisVerdict => ({
  seq,
  at: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString(),
  stageIndex: 0,
  mode: 'canary',
  decision,
  action: 'continue',
  reasons: [],
  summary: `analysis ${seq}`,
  samples: { champion: 10 * seq, challenger: seq },
});

describe('rollout store (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('rollout_store');
  });
  afterAll(async () => db?.drop());

  it('writes a rollout once, as proposed, whoever writes it first', async () => {
    expect(await isRolloutRecorded(db.knex, 'default', 'r1')).toBe(false);
    expect(await insertRollout(db.knex, { input: input('r1'), workflowId: 'wf-m', runId: 'run-1' })).toBe(
      true,
    );
    // The workflow's own record of the same rollout (a retry, or the client having written it first).
    expect(
      await insertRollout(db.knex, {
        input: input('r1', { challenger: '9.9.9' }),
        workflowId: 'wf-other',
        runId: 'run-2',
      }),
    ).toBe(false);
    expect(await isRolloutRecorded(db.knex, 'default', 'r1')).toBe(true);
    expect(await isRolloutRecorded(db.knex, 'acme', 'r1')).toBe(false);
    const row = await getRolloutRow(db.knex, 'default', 'r1');
    expect(row).toMatchObject({
      id: 'r1',
      tenant_id: 'default',
      model: 'm',
      champion: '1.0.0',
      challenger: '1.1.0',
      state: 'proposed',
      proposed_by: 'ana',
      workflow_id: 'wf-m',
      run_id: 'run-1',
      decision: null,
      ended_at: null,
      policy: JSON.parse(JSON.stringify(DEFAULT_POLICY)) as unknown,
    });
    expect(await getRolloutRun(db.knex, 'default', 'r1')).toEqual({ workflow_id: 'wf-m', run_id: 'run-1' });
    expect(await getRolloutRun(db.knex, 'acme', 'r1')).toBeUndefined();
  });

  it('records events once by sequence, and a final transition ends the rollout with its reason', async () => {
    const event = {
      tenantId: 'default',
      rolloutId: 'r1',
      seq: 1,
      type: 'transition',
      from: 'proposed' as const,
      to: 'canary' as const,
      actor: 'arena',
      reason: null,
      details: { weight: 5 },
      at: '2026-01-01T00:00:00.000Z',
    };
    expect(await insertRolloutEvent(db.knex, event)).toBe(true);
    expect(await insertRolloutEvent(db.knex, { ...event, type: 'again' })).toBe(false);
    await db.knex.transaction((trx) =>
      setRolloutState(trx, 'r1', { state: 'canary', at: event.at, reason: null }),
    );
    expect(await activeRolloutOfModel(db.knex, 'default', 'm')).toEqual({ id: 'r1' });
    await db.knex.transaction((trx) =>
      setRolloutState(trx, 'r1', { state: 'rolled_back', at: '2026-01-02T00:00:00.000Z', reason: 'worse' }),
    );
    const row = await getRolloutRow(db.knex, 'default', 'r1');
    expect(row).toMatchObject({ state: 'rolled_back', decision: 'worse' });
    expect(row!.ended_at!.toISOString()).toBe('2026-01-02T00:00:00.000Z');
    expect(await activeRolloutOfModel(db.knex, 'default', 'm')).toBeUndefined();
    const events = await listRolloutEvents(db.knex, 'default', 'r1');
    expect(events.map((e) => [e.seq, e.type, e.from_state, e.to_state, e.details])).toEqual([
      [1, 'transition', 'proposed', 'canary', { weight: 5 }],
    ]);
    expect(await listRolloutEvents(db.knex, 'acme', 'r1')).toEqual([]);
  });

  it('stores an analysis once by sequence and returns the stored one to a retry', async () => {
    expect(await latestAnalysis(db.knex, 'default', 'r1')).toBeNull();
    const first = verdict(1, 'waiting');
    expect(await storeAnalysis(db.knex, 'default', 'r1', first)).toEqual(first);
    // A retry computed a different verdict for the same sequence number: the recorded one wins.
    expect(await storeAnalysis(db.knex, 'default', 'r1', verdict(1, 'pass'))).toEqual(first);
    await storeAnalysis(db.knex, 'default', 'r1', verdict(2, 'pass'));
    expect((await latestAnalysis(db.knex, 'default', 'r1'))?.seq).toBe(2);
    expect((await listAnalyses(db.knex, 'default', 'r1')).map((a) => [a.seq, a.decision])).toEqual([
      [1, 'waiting'],
      [2, 'pass'],
    ]);
    const stored = (await db.knex('analyses').where({ rollout_id: 'r1', seq: 2 }).first()) as {
      stage_index: number;
      decision: string;
    };
    expect(stored).toMatchObject({ stage_index: 0, decision: 'pass' });
  });

  it('finds rollouts by model, challenger, activity and creation time, within the tenant', async () => {
    await insertRollout(db.knex, {
      input: input('r2', { challenger: '1.2.0' }),
      workflowId: 'wf-m',
      runId: 'x',
    });
    await insertRollout(db.knex, {
      input: input('other', { tenantId: 'acme', challenger: '1.2.0' }),
      workflowId: 'wf-acme',
      runId: 'y',
    });
    await db
      .knex('rollouts')
      .where({ id: 'r1' })
      .update({ created_at: new Date('2026-01-01T00:00:00Z') });
    await db
      .knex('rollouts')
      .where({ id: 'r2' })
      .update({ created_at: new Date('2026-01-05T00:00:00Z') });

    expect((await listRollouts(db.knex, 'default', { limit: 10 })).map((r) => r.id)).toEqual(['r2', 'r1']);
    expect((await listRollouts(db.knex, 'default', { limit: 1 })).map((r) => r.id)).toEqual(['r2']);
    expect((await listRollouts(db.knex, 'default', { active: true, limit: 10 })).map((r) => r.id)).toEqual([
      'r2',
    ]);
    expect(await listRollouts(db.knex, 'default', { model: 'n', limit: 10 })).toEqual([]);
    expect(await latestRolloutOfModel(db.knex, 'default', 'm')).toMatchObject({
      id: 'r2',
      state: 'proposed',
    });
    expect(await latestRolloutOfChallenger(db.knex, 'default', 'm', '1.1.0')).toEqual({ id: 'r1' });
    expect(await latestRolloutOfChallenger(db.knex, 'default', 'm', '3.0.0')).toBeUndefined();
    const between = await rolloutsOfModelBetween(
      db.knex,
      'default',
      'm',
      new Date('2025-12-31T00:00:00Z'),
      new Date('2026-01-02T00:00:00Z'),
    );
    expect(between.map((r) => r.id)).toEqual(['r1']);
    expect((await rolloutIdsOfModel(db.knex, 'default', 'm').orderBy('id')) as Array<{ id: string }>).toEqual(
      [{ id: 'r1' }, { id: 'r2' }],
    );
  });
});
