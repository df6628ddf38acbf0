import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../src/policy/policy.js';
import { registerVersion } from '../../../src/registry/registry.js';
import { loadRolloutReport } from '../../../src/report/rollout-report-data.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const check = (kind: string, scale: 'absolute' | 'relative', limit: number) => ({
  kind,
  scale,
  limit,
  estimate: 0.01,
  status: 'pass',
});
const guardrail = (metric: string, checks: Array<ReturnType<typeof check>>) => ({
  metric,
  status: 'pass',
  champion: { value: 0.01 },
  challenger: { value: 0.012 },
  checks,
});

describe('loadRolloutReport (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('report_data');
    for (const version of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: 'm', version, actor: 't' });
    await db.knex('rollouts').insert({
      id: 'r1',
      model: 'm',
      champion: '1.0.0',
      challenger: '1.1.0',
      state: 'canary',
      policy: JSON.stringify(DEFAULT_POLICY),
      proposed_by: 't',
      workflow_id: 'wf-r1',
    });
    const details = {
      metrics: [],
      guardrails: [
        guardrail('error', [
          check('max', 'absolute', 0.05),
          check('rollbackAbove', 'absolute', 0.02),
          check('maxRelativeIncrease', 'relative', 0.001),
        ]),
        guardrail('latency_ms@q0.99', [check('maxRelativeIncrease', 'relative', 0.2)]),
      ],
    };
    await db.knex('analyses').insert({
      rollout_id: 'r1',
      seq: 1,
      stage_index: 0,
      decision: 'continue',
      result: JSON.stringify({
        seq: 1,
        at: '2026-01-01T12:00:00.000Z',
        stageIndex: 0,
        mode: 'canary',
        decision: 'continue',
        action: 'continue',
        summary: 'guardrails hold',
        samples: { champion: 900, challenger: 100 },
        details,
      }),
    });
  });
  afterAll(async () => db?.drop());

  it('gives each guardrail the tightest of its absolute limits, and none when it has only relative ones', async () => {
    const report = await loadRolloutReport(db.knex, 'r1');
    expect(report.analyses).toHaveLength(1);
    const [error, latency] = report.analyses[0]!.guardrails;
    expect(error).toMatchObject({ metric: 'error', limit: 0.02, champion: 0.01, challenger: 0.012 });
    expect(error!.checks).toHaveLength(3);
    expect(latency).toMatchObject({ metric: 'latency_ms@q0.99', limit: null });
    expect(report.analyses[0]!.samples).toEqual({ champion: 900, challenger: 100 });
  });
});
