import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertDriftReports,
  psiReportsOfModelBetween,
  type DriftReportInput,
} from '../../../src/monitoring/drift-report-store.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const stat = (feature: string, method: 'psi' | 'ks', statistic: number): DriftReportInput => ({
  feature,
  method,
  statistic,
  p_value: method === 'ks' ? 0.5 : null,
  threshold: 0.2,
  drifted: statistic > 0.2,
  windows: { reference: 'training profile', n: 10 },
});

describe('drift report store (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('drift_reports');
  });
  afterAll(async () => db?.drop());

  it("writes a check's statistics once and reads a model's PSI rows in a period", async () => {
    const check = { tenantId: 'default', model: 'm', version: '1.0.0', checkId: 'c1' };
    await insertDriftReports(db.knex, { ...check, rows: [] });
    await insertDriftReports(db.knex, { ...check, rows: [stat('x', 'psi', 0.3), stat('x', 'ks', 0.1)] });
    // A retried check: the first write stays.
    await insertDriftReports(db.knex, { ...check, rows: [stat('x', 'psi', 0.01), stat('y', 'psi', 0.05)] });
    await insertDriftReports(db.knex, {
      ...check,
      model: 'other',
      checkId: 'c2',
      rows: [stat('x', 'psi', 1)],
    });

    // A period around the writes. Its end is a second ahead: PostgreSQL stamps rows to the microsecond and
    // JavaScript reads the clock to the millisecond, so a row written in this very millisecond could lie
    // just after a `new Date()` taken now (it did, once in a few hundred runs).
    const now = Date.now();
    const rows = await psiReportsOfModelBetween(
      db.knex,
      'default',
      'm',
      new Date(now - 60_000),
      new Date(now + 1_000),
    );
    expect(rows.map((r) => [r.feature, r.method, r.statistic, r.drifted, r.check_id])).toEqual([
      ['x', 'psi', 0.3, true, 'c1'],
      ['y', 'psi', 0.05, false, 'c1'],
    ]);
    expect(rows[0]!.windows).toEqual({ reference: 'training profile', n: 10 });
    expect(await psiReportsOfModelBetween(db.knex, 'default', 'm', new Date(0), new Date(1))).toEqual([]);
  });
});
