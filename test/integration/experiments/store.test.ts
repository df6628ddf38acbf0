import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertExperiment, listExperiments, updateExperimentState } from '../../../src/experiments/store.js';
import type { ExperimentInput } from '../../../src/experiments/types.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const input = (experimentId: string, tenantId = 'default'): ExperimentInput => ({
  experimentId,
  tenantId,
  name: `test ${experimentId}`,
  hypothesis: 'the challenger is better',
  type: 'architecture',
  expectedImprovement: 0.05,
  proposer: 'ana',
  segments: [
    { segment: 'north', model: 'm', challenger: '1.1.0' },
    { segment: 'south', model: 'n', challenger: '2.1.0' },
  ],
});

describe('experiment store (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('experiment_store');
  });
  afterAll(async () => db?.drop());

  it('writes a proposal once, with its segments, as proposed', async () => {
    expect(await db.knex.transaction((trx) => insertExperiment(trx, input('e1')))).toBe(true);
    expect(await db.knex.transaction((trx) => insertExperiment(trx, { ...input('e1'), name: 'again' }))).toBe(
      false,
    );
    const [row] = await listExperiments(db.knex, 'default');
    expect(row).toMatchObject({
      id: 'e1',
      name: 'test e1',
      model: 'm,n',
      status: 'proposed',
      proposer: 'ana',
      approver: null,
      expected_improvement: 0.05,
      results: { segments: input('e1').segments },
    });
  });

  it('moves the state, writing only the fields given', async () => {
    const e = input('e1');
    await db.knex.transaction((trx) => updateExperimentState(trx, e, { state: 'approved', approver: 'bo' }));
    let [row] = await listExperiments(db.knex, 'default');
    expect(row).toMatchObject({ status: 'approved', approver: 'bo', decision: null });
    expect(row!.results).toEqual({ segments: e.segments });

    const results = [{ segment: 'north' }] as unknown as Parameters<
      typeof updateExperimentState
    >[2]['results'];
    await db.knex.transaction((trx) =>
      updateExperimentState(trx, e, { state: 'completed', results, decision: 'ship', rationale: 'better' }),
    );
    [row] = await listExperiments(db.knex, 'default');
    expect(row).toMatchObject({ status: 'completed', approver: 'bo', decision: 'ship', rationale: 'better' });
    expect(row!.results).toEqual({ segments: e.segments, measured: results, rollouts: {} });
    expect(row!.updated_at.getTime()).toBeGreaterThanOrEqual(row!.created_at.getTime());
  });

  it("lists a tenant's experiments newest first, optionally in one status", async () => {
    await db.knex.transaction((trx) => insertExperiment(trx, input('e2')));
    await db.knex.transaction((trx) => insertExperiment(trx, input('e3', 'acme')));
    expect((await listExperiments(db.knex, 'default')).map((r) => r.id)).toEqual(['e2', 'e1']);
    expect((await listExperiments(db.knex, 'default', 'proposed')).map((r) => r.id)).toEqual(['e2']);
    expect((await listExperiments(db.knex, 'acme')).map((r) => r.id)).toEqual(['e3']);
  });
});
