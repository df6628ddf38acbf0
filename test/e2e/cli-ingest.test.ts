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

  it('names a missing file', async () => {
    const r = await runCli(['ingest', '/nonexistent/file.ndjson'], { DATABASE_URL: db.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Cannot read /nonexistent/file.ndjson');
  });
});
