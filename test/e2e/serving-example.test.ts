import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forecast, trainWeatherModel } from '../../examples/weather-model/model.js';
import { buildGateway } from '../../src/gateway/server.js';
import { TokenStore } from '../../src/gateway/tokens.js';
import { watchChild, type WatchedChild } from '../support/child-output.js';
import { ContractWatch, expectContractKept } from '../support/contract.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { weatherDays } from '../support/weather-model.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const T = {
  pipeline: 'pipeline-operator-registrar-0123456789',
  approver: 'alice-approver-token-0123456789',
  server: 'weather-server-ingest-token-0123456',
};

const python = (args: string[], env: Record<string, string> = {}, timeout = 300_000) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      'python3',
      args,
      { cwd: root, timeout, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });

/**
 * examples/serving end to end: a Python model server (standard library and arena_client) routes, shadows
 * and records; a Python driver registers the versions, proposes the rollout, has a second person approve
 * it, and follows it to its end. Everything they do goes through the gateway's HTTP API; the worker and
 * Temporal are the real ones.
 */
describe('examples/serving: a Python model server takes part in a whole rollout over HTTP', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let app: FastifyInstance;
  let contract: ContractWatch | undefined;
  afterAll(() => expectContractKept(contract));
  let gateway: string;
  let dir: string;
  const servers: Array<{ child: ChildProcessWithoutNullStreams; watched: WatchedChild }> = [];

  const artifacts = async (model: string, challengerVersion: string) => {
    const train = (version: string, featureSet: 'seasonal' | 'seasonal+lags', trainTo: string) =>
      trainWeatherModel(weatherDays, {
        model,
        version,
        featureSet,
        trainFrom: '2012-01-01',
        trainTo,
        holdoutFrom: '2015-01-01',
        holdoutTo: '2015-12-31',
      });
    const champion = train('1.0.0', 'seasonal', '2013-12-31');
    const challenger = train(challengerVersion, 'seasonal+lags', '2014-12-31');
    const paths = {
      champion: join(dir, `${model}-champion.json`),
      challenger: join(dir, `${model}-challenger.json`),
    };
    // As examples/weather-model/train.ts --out writes them.
    await writeFile(paths.champion, `${JSON.stringify(champion, null, 2)}\n`);
    await writeFile(paths.challenger, `${JSON.stringify(challenger, null, 2)}\n`);
    return { champion, challenger, paths };
  };

  const startServer = async (
    model: string,
    extra: string[] = [],
  ): Promise<{ url: string; watched: WatchedChild }> => {
    const child = spawn(
      'python3',
      ['examples/serving/server.py', '--model', model, '--port', '0', '--refresh-seconds', '0.5', ...extra],
      { cwd: root, env: { ...process.env, ARENA_URL: gateway, ARENA_TOKEN: T.server } },
    );
    const watched = watchChild(child, 20_000);
    servers.push({ child, watched });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start: ${watched.output()}`)), 20_000);
      child.stdout.on('data', () => {
        const m = /"listening": "([^"]+)"/.exec(watched.output());
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void watched.exited.then(() => reject(new Error(`server exited: ${watched.output()}`)));
    });
    return { url, watched };
  };

  const drive = (model: string, server: string, paths: { champion: string; challenger: string }) =>
    python(
      [
        'examples/serving/run_rollout.py',
        '--model',
        model,
        '--server',
        server,
        '--champion',
        paths.champion,
        '--challenger',
        paths.challenger,
        '--policy',
        'examples/serving/policy.json',
        '--rate',
        '200',
        '--timeout',
        '90',
      ],
      { ARENA_URL: gateway, ARENA_TOKEN: T.pipeline, ARENA_APPROVER_TOKEN: T.approver },
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'arena-serving-'));
    db = await createTestDatabase('serving_example');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    app = await buildGateway({
      databaseUrl: db.url,
      bucketSeconds: 1, // as the test worker's rollups: stages of seconds need buckets of one

      tokens: new TokenStore([
        { token: T.pipeline, name: 'pipeline', tenant: 'default', roles: ['operator', 'registrar'] },
        { token: T.approver, name: 'alice', tenant: 'default', roles: ['approver'] },
        { token: T.server, name: 'weather-server', tenant: 'default', roles: ['ingest', 'registrar'] },
      ]),
      people: {
        knex: db.knex,
        temporal: { client: temporal.client, taskQueue: temporal.taskQueue },
      },
    });
    contract = await ContractWatch.watch(app);
    gateway = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    for (const s of servers) {
      s.child.kill('SIGTERM');
      await s.watched.exited;
    }
    await app?.close();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('forecasts exactly what the TypeScript model forecasts, from the same artifact', async () => {
    const { challenger, paths } = await artifacts('parity', '1.1.0');
    const days = weatherDays
      .map((d, i) => ({ d, i }))
      .filter(({ d }) => d.date >= '2015-01-01')
      .slice(0, 60);
    const inputs = days.map(({ d, i }) => ({
      date: d.date,
      temp_max_1: weatherDays[i - 1]!.tempMax,
      temp_min_1: weatherDays[i - 1]!.tempMin,
      precipitation_1: weatherDays[i - 1]!.precipitation,
      wind_1: weatherDays[i - 1]!.wind,
      temp_max_2: weatherDays[i - 2]!.tempMax,
    }));
    const digest = createHash('sha256')
      .update(await readFile(paths.challenger))
      .digest('hex');
    const script = [
      'import json, sys',
      'sys.path.insert(0, "examples/serving")',
      'from forecaster import load_artifact',
      'import pathlib',
      `m = load_artifact(pathlib.Path(sys.argv[1]).resolve().as_uri(), sys.argv[2])`,
      'print(json.dumps([m.forecast(r["date"], r) for r in json.loads(sys.argv[3])]))',
    ].join('\n');
    const r = await python(['-c', script, paths.challenger, digest, JSON.stringify(inputs)]);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as number[];
    days.forEach(({ i }, k) => expect(got[k]).toBeCloseTo(forecast(challenger, weatherDays, i)!, 9));
    // A digest that does not match is refused before anything is served.
    const bad = await python(['-c', script, paths.challenger, '0'.repeat(64), '[]']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/does not match the registered 0{64}; refusing to serve it/);
  });

  it('promotes the better forecaster: registered, proposed, approved, routed, shadowed and recorded from Python', async () => {
    // Rollout workflow ids are per model, and the Temporal server outlives test runs: a name of this run's own.
    const model = `seattle-temp-py-${randomBytes(3).toString('hex')}`;
    const { paths } = await artifacts(model, '1.1.0');
    const { url } = await startServer(model);
    const r = await drive(model, url, paths);
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    const outcome = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      rolloutId: string;
      state: string;
      champion: string;
      traffic: Record<string, number>;
      served: Record<string, number>;
    };
    expect(outcome, r.stderr).toMatchObject({ state: 'promoted', champion: '1.1.0' });
    expect(outcome.traffic.failed).toBe(0);
    expect(outcome.served['1.1.0']).toBeGreaterThan(0); // the canary served real requests

    // What the server recorded is what Arena stored: shadow and served predictions of both versions, and
    // the feedback that made their errors measurable.
    const rows = (await db
      .knex('predictions')
      .where({ model })
      .select('version', 'role')
      .count({ n: '*' })
      .groupBy('version', 'role')) as Array<{ version: string; role: string; n: string }>;
    const count = (version: string, role: string) =>
      Number(rows.find((x) => x.version === version && x.role === role)?.n ?? 0);
    expect(count('1.0.0', 'served')).toBeGreaterThan(500);
    expect(count('1.1.0', 'shadow')).toBeGreaterThan(100);
    expect(count('1.1.0', 'served')).toBeGreaterThan(100);
    const feedback = await db.knex('feedback').where({ model }).count({ n: '*' }).first();
    expect(Number(feedback?.n)).toBeGreaterThan(500);

    // The people are the tokens' people: the pipeline proposed, alice approved.
    const rollout = await db.knex('rollouts').where({ id: outcome.rolloutId }).first();
    expect(rollout).toMatchObject({ state: 'promoted', proposed_by: 'pipeline' });
    const approved = await db
      .knex('rollout_events')
      .where({ rollout_id: outcome.rolloutId, type: 'approved' })
      .first();
    expect(approved?.actor).toBe('alice');
    const registered = await db.knex('audit_log').where({ action: 'model.register' }).select('actor');
    expect(registered.map((a: { actor: string }) => a.actor)).toContain('pipeline');
  }, 300_000);

  it('rolls back a broken serving build: the errors the server records trip the error guardrail', async () => {
    const model = `seattle-temp-py-${randomBytes(3).toString('hex')}`;
    const { paths } = await artifacts(model, '1.1.1');
    const { url } = await startServer(model, ['--fault', '1.1.1=0.1']);
    const r = await drive(model, url, paths);
    expect(r.code, `${r.stderr}\n${r.stdout}`).toBe(0);
    const outcome = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { state: string; champion: string };
    expect(outcome, r.stderr).toMatchObject({ state: 'rolled_back', champion: '1.0.0' });
    expect(r.stderr).toMatch(/rolled_back: .*error/);
    const failed = (await db
      .knex('predictions')
      .where({ model, version: '1.1.1', error: true })
      .select('error_code')
      .count({ n: '*' })
      .groupBy('error_code')) as Array<{ error_code: string; n: string }>;
    expect(failed.map((f) => f.error_code)).toEqual(['ServingFault']);
    expect(Number(failed[0]!.n)).toBeGreaterThan(10);
  }, 300_000);
});
