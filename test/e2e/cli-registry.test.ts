import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucket } from '../../src/routing/bucket.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runCli } from '../support/cli.js';

describe('arena model / routing / route (the CLI as a user runs it)', () => {
  let db: TestDatabase;
  let arena: (...args: string[]) => ReturnType<typeof runCli>;
  beforeAll(async () => {
    db = await createTestDatabase('cli_registry');
    arena = (...args) => runCli(args, { DATABASE_URL: db.url, ARENA_ACTOR: 'cli-test' });
  });
  afterAll(async () => db?.drop());

  it('registers, sets the champion, canaries a challenger and routes with the JSON shapes of DESIGN.md §7', async () => {
    let r = await arena(
      'model',
      'register',
      'sales',
      'v1.0.0_20250101_000000',
      '--metrics',
      '{"mae":10}',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      model: 'sales',
      version: '1.0.0+20250101000000',
      status: 'candidate',
      created: true,
    });
    r = await arena('model', 'register', 'sales', '1.1.0', '--parent', '1.0.0+20250101000000', '--json');
    expect(r.code, r.stderr).toBe(0);
    r = await arena('model', 'champion', 'sales', '1.0.0+20250101000000', '--json');
    expect(r.code, r.stderr).toBe(0);

    r = await arena(
      'routing',
      'set',
      'sales',
      '--challenger',
      '1.1.0',
      '--mode',
      'canary',
      '--weight',
      '5',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    r = await arena('routing', 'show', 'sales', '--json');
    const routing = JSON.parse(r.stdout);
    expect(routing).toEqual({
      model: 'sales',
      champion: '1.0.0+20250101000000',
      challenger: '1.1.0',
      mode: 'canary',
      weightBp: 500,
      shadow: [],
      segmentOverrides: [],
      salt: expect.any(String),
      generation: 3,
    });

    r = await arena('route', 'sales', 'req-9', '--unit', 'user-1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const decision = JSON.parse(r.stdout);
    const b = bucket('sales', routing.salt, 'user-1');
    expect(decision).toMatchObject({
      serve: b < 500 ? '1.1.0' : '1.0.0+20250101000000',
      shadow: [],
      bucket: b,
      generation: 3,
    });

    r = await arena('routing', 'set', 'sales', '--mode', 'shadow', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'shadow', weightBp: 0, challenger: '1.1.0' });
    r = await arena('route', 'sales', 'req-9', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ serve: '1.0.0+20250101000000', shadow: ['1.1.0'] });
  });

  it.each([
    [['model', 'register', 'sales', '1.2'], 'version="1.2"'],
    [
      ['model', 'register', 'sales', '1.0.0+20250101000000', '--metrics', '{"mae":11}'],
      'already registered with a different metrics',
    ],
    [
      ['model', 'register', 'sales', '2.0.0', '--metrics', 'not json'],
      '--metrics="not json": not valid JSON',
    ],
    [['routing', 'set', 'sales', '--weight', '150'], '--weight="150"'],
    [['routing', 'set', 'sales', '--weight', 'abc'], '--weight="abc"'],
    [['routing', 'set', 'sales', '--mode', 'blue'], '--mode="blue"'],
    [
      ['routing', 'set', 'sales', '--challenger', '9.9.9', '--mode', 'canary', '--weight', '1'],
      'challenger="9.9.9"',
    ],
    [['routing', 'set', 'sales'], 'nothing to change'],
    [['route', 'nope', 'r1'], 'Unknown model "nope"'],
    [['model', 'champion', 'sales', '7.0.0'], 'No version 7.0.0 of model sales'],
  ])('arena %j fails clearly', async (args, message) => {
    const r = await arena(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/hint:/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
