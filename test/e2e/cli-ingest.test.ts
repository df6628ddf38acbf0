import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readVersionMetrics } from '../../src/analysis/rollup-reader.js';
import { registerVersion } from '../../src/registry/registry.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('arena ingest FILE.ndjson', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('cli_ingest');
    await registerVersion(db.knex, { model: 'demand', version: '1.0.0', actor: 't' });
  });
  afterAll(async () => db?.drop());

  it('loads predictions and feedback, reports bad lines by number, and keeps every good one', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'arena-ingest-'));
    const file = path.join(dir, 'data.ndjson');
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++)
      lines.push(
        JSON.stringify({
          requestId: `r${i}`,
          model: 'demand',
          version: '1.0.0',
          prediction: i,
          latencyMs: 10,
          at: '2026-11-01T00:00:00Z',
        }),
      );
    lines.push('{ not json');
    lines.push(
      JSON.stringify({ requestId: 'bad', model: 'demand', version: '1.0.0', prediction: 1, latencyMs: -5 }),
    );
    lines.push('');
    for (let i = 0; i < 3000; i++)
      lines.push(JSON.stringify({ model: 'demand', requestId: `r${i}`, actual: i + 2 }));
    await writeFile(file, `${lines.join('\n')}\n`);

    const r = await runCli(['ingest', file, '--json'], { DATABASE_URL: db.url });
    expect(r.code, r.stderr).toBe(2);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({
      lines: 6003,
      stored: { predictions: 3000, feedback: 3000 },
      rejected: 2,
    });
    expect(summary.rejections).toEqual([
      expect.objectContaining({ line: 3001, field: '(line)' }),
      expect.objectContaining({ line: 3002, field: 'latencyMs' }),
    ]);
    const f = await readVersionMetrics(db.knex, { model: 'demand', versions: ['1.0.0'] });
    expect(f['1.0.0']!.abs_error!.summary).toMatchObject({ n: 3000, mean: 2 });
  });

  async function ingestLines(name: string, lines: string[]) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'arena-ingest-'));
    const file = path.join(dir, `${name}.ndjson`);
    await writeFile(file, `${lines.join('\n')}\n`);
    const r = await runCli(['ingest', file, '--json'], { DATABASE_URL: db.url });
    return { ...r, summary: r.stdout ? JSON.parse(r.stdout) : undefined };
  }
  const line = (requestId: string, extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ requestId, model: 'demand', version: '1.0.0', prediction: 1, ...extra });

  it('a file of only bad lines stores nothing, says so line by line, and exits non-zero', async () => {
    const r = await ingestLines('bad', [
      line('only-1', { errorCode: 'E\u0000' }),
      line('only-2', { at: '0000-01-01T00:00:00Z' }),
      line('only-3', { prediction: { label: 'a\ud800' } }),
      '[1, 2',
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.summary).toMatchObject({ stored: { predictions: 0, feedback: 0 }, rejected: 4 });
    expect(r.summary.rejections.map((x: { line: number; field: string }) => [x.line, x.field])).toEqual([
      [1, 'errorCode'],
      [2, 'at'],
      [3, 'prediction.label'],
      [4, '(line)'],
    ]);
    expect(await db.knex('predictions').where('request_id', 'like', 'only-%').count({ n: '*' })).toEqual([
      { n: 0 },
    ]);
  });

  it('reports the lines PostgreSQL itself refuses, stores the others, and a second run stores nothing twice', async () => {
    await db.knex.raw(
      `alter table predictions add constraint cli_no_evil check (request_id not like 'pg-evil%')`,
    );
    try {
      const lines = [line('pg-1'), line('pg-evil-2'), line('pg-3'), line('pg-evil-4'), line('pg-5')];
      const first = await ingestLines('refused', lines);
      expect(first.code, first.stderr).toBe(2);
      expect(first.summary).toMatchObject({ stored: { predictions: 3 }, duplicates: { predictions: 0 } });
      expect(first.summary.rejections).toEqual([
        expect.objectContaining({ line: 2, reason: expect.stringMatching(/cli_no_evil/) }),
        expect.objectContaining({ line: 4, reason: expect.stringMatching(/cli_no_evil/) }),
      ]);
      const again = await ingestLines('refused-again', lines);
      expect(again.summary).toMatchObject({ stored: { predictions: 0 }, duplicates: { predictions: 3 } });
      const f = await db
        .knex('metric_rollups')
        .where({ model: 'demand', metric: 'error' })
        .whereIn(
          'bucket_start',
          db
            .knex('predictions')
            .where('request_id', 'like', 'pg-%')
            .select(db.knex.raw(`date_trunc('minute', at)`)),
        )
        .sum({ n: 'count' });
      expect(Number(f[0]!.n)).toBe(3);
    } finally {
      await db.knex.raw('alter table predictions drop constraint cli_no_evil');
    }
  });

  it('names a missing file', async () => {
    const r = await runCli(['ingest', '/nonexistent/file.ndjson'], { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Cannot read /nonexistent/file.ndjson');
  });
});
