import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BinaryRows, copyBinary } from '../../../src/ingest/copy-binary.js';
import { createTestDatabase, type TestDatabase } from '../../support/database.js';

const DAY_MS = 86_400_000;
const COLUMNS = ['t', 'j', 'f', 'b', 'ts', 'd'] as const;

interface Row {
  t: string | null;
  j: unknown;
  f: number | null;
  b: boolean;
  ts: Date;
  /** Days since 1970-01-01. */
  d: number;
}

/**
 * The recorder's binary COPY encoder (src/ingest/copy-binary.ts) against PostgreSQL's own decoder: whatever
 * it writes must read back as the value it was given, for every type the recorder sends.
 */
describe('binary COPY rows on real Postgres', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('copy_binary');
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await pool.query(
      'create table binary_rows (n int, t text, j jsonb, f float8, b bool, ts timestamptz, d date)',
    );
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  async function roundTrip(rows: Row[]): Promise<void> {
    await pool.query('truncate binary_rows');
    const out = new BinaryRows();
    rows.forEach((r) =>
      out
        .row(COLUMNS.length + 1)
        .float8(null) // n is an int column: NULL is written the same for every type
        .text(r.t)
        .jsonb(r.j === undefined ? null : JSON.stringify(r.j))
        .float8(r.f)
        .bool(r.b)
        .timestamptz(r.ts)
        .date(r.d),
    );
    const client = await pool.connect();
    try {
      await copyBinary(client, 'binary_rows', ['n', ...COLUMNS], out.finish());
    } finally {
      client.release();
    }
    const { rows: back } = await pool.query<{
      t: string | null;
      j: unknown;
      f: number | null;
      b: boolean;
      ts: Date;
      d: string;
    }>(`select t, j, f, b, ts, to_char(d, 'YYYY-MM-DD') as d from binary_rows order by ctid`);
    expect(back).toHaveLength(rows.length);
    back.forEach((got, i) => {
      const want = rows[i]!;
      expect(got.t).toBe(want.t);
      expect(got.j).toEqual(want.j === undefined ? null : JSON.parse(JSON.stringify(want.j)));
      expect(got.f === null ? null : Object.is(got.f, -0) ? 0 : got.f).toBe(
        want.f === null ? null : Object.is(want.f, -0) ? 0 : want.f,
      );
      expect(got.b).toBe(want.b);
      expect(got.ts.getTime()).toBe(want.ts.getTime());
      expect(got.d).toBe(new Date(want.d * DAY_MS).toISOString().slice(0, 10));
    });
  }

  it('stores edge values as given: empty and astral text, nulls, extreme numbers, times and days before 2000', async () => {
    await roundTrip([
      { t: '', j: null, f: 0, b: false, ts: new Date(Date.UTC(2000, 0, 1)), d: 10_957 },
      {
        t: null,
        j: undefined,
        f: null,
        b: true,
        ts: new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)),
        d: 10_956,
      },
      {
        t: 'é"\n,\\😀',
        j: { a: [1, 'x', null, true], ü: { b: 1e50 } },
        f: -1e50,
        b: true,
        ts: new Date(0),
        d: 0,
      },
      {
        t: 'x'.repeat(100_000),
        j: 'text',
        f: 5e-324,
        b: false,
        ts: new Date(Date.UTC(1969, 0, 1, 0, 0, 0, 1)),
        d: -365,
      },
      { t: 'z', j: [], f: -0, b: false, ts: new Date(Date.UTC(2275, 5, 1, 12, 0, 0, 123)), d: 110_000 },
    ]);
  });

  it('stores any text, JSON, number, time and day it is given', async () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
    const json = fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes('\\u0000'));
    const row = fc.record({
      t: fc.option(text, { nil: null }),
      j: fc.option(json, { nil: undefined }),
      f: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
      b: fc.boolean(),
      // PostgreSQL's timestamptz runs from 4713 BC; a JavaScript Date to ±275,760 years: stay within both.
      ts: fc.integer({ min: -30_000_000_000_000, max: 200_000_000_000_000 }).map((ms) => new Date(ms)),
      d: fc.integer({ min: -700_000, max: 2_000_000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(row, { minLength: 1, maxLength: 30 }), (rows) => roundTrip(rows)),
      { numRuns: 60, seed: 21 },
    );
  });
});
