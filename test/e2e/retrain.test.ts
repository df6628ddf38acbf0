import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { loadWeather, sha256OfDays, sliceDays } from '../../examples/weather-model/data.js';
import { trainWeatherModel } from '../../examples/weather-model/model.js';
import { createLocalArtifactStore } from '../../src/artifacts/local-store.js';
import { ArenaClient } from '../../src/client/arena-client.js';
import type { PolicyInput } from '../../src/policy/policy.js';
import { getVersion, registerVersion, setChampion } from '../../src/registry/registry.js';
import { startRetrain } from '../../src/retrain/launcher.js';
import type { TrainingConfigInput } from '../../src/retrain/training-config.js';
import type { RetrainTrigger } from '../../src/retrain/types.js';
import { startTraffic } from '../../src/simulate/traffic.js';
import { runCli } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { operatorGateway } from '../support/operator-gateway.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { eventually } from '../support/weather-model.js';

const FAST: PolicyInput = {
  approval: { required: true, timeout: '60s' },
  stages: [
    { mode: 'shadow', duration: '2s' },
    { mode: 'canary', weight: 50, duration: '3s' },
  ],
  analysis: { interval: '500ms', minSamples: 40, maxExtension: '4s', alpha: 0.05, tuningN: 500 },
  primaryMetric: {
    name: 'abs_error',
    direction: 'lower',
    minImprovement: 0.02,
    rollbackRelativeDegradation: 0.05,
  },
  guardrails: [{ metric: 'error', max: 0.05, rollbackAbove: 0.15 }],
  onInconclusive: 'rollback',
  watch: { duration: '1s', rollbackOnRelativeDegradation: 0.5 },
};

/** The real train command; its dates come from the job's window, as a configuration would write them. */
const train = (features: string): string[] => [
  process.execPath,
  '--import',
  'tsx',
  'examples/weather-model/train.ts',
  '--model',
  '{model}',
  '--version',
  '{version}',
  '--features',
  features,
  '--train-from',
  '{trainFrom}',
  '--train-to',
  '{trainTo}',
  '--holdout-from',
  '{holdoutFrom}',
  '--holdout-to',
  '{holdoutTo}',
  '--out',
  '{out}',
];
const VALIDATE = [
  process.execPath,
  '--import',
  'tsx',
  'examples/weather-model/evaluate.ts',
  '--candidate',
  '{candidate}',
  '--champion',
  '{champion}',
  '--from',
  '{holdoutFrom}',
  '--to',
  '{holdoutTo}',
];
const LAST_3_YEARS = { trainFrom: '2012-01-01', trainTo: '2014-12-31' };

interface JobRow {
  status: string;
  error: string | null;
  candidate_version: string | null;
  metrics: { improvement?: number } | null;
}

describe('retraining on a real Temporal server with real child-process training', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let arena: ArenaClient;
  const { days } = loadWeather();
  const store = createLocalArtifactStore(resolve('.arena/artifacts'));

  beforeAll(async () => {
    db = await createTestDatabase('retrain');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    arena = new ArenaClient({ temporal: temporal.client, knex: db.knex, taskQueue: temporal.taskQueue });
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
  });

  /** A model whose champion is the seasonal forecaster (2012–2013), retrained as `training` says. */
  async function model(
    name: string,
    training: {
      command: string[];
      train?: { trainFrom: string; trainTo: string };
      env?: Record<string, string>;
      heartbeatTimeout?: string;
    },
  ) {
    const artifact = trainWeatherModel(days, {
      model: name,
      version: '1.0.0',
      featureSet: 'seasonal',
      trainFrom: '2012-01-01',
      trainTo: '2013-12-31',
      holdoutFrom: '2015-01-01',
      holdoutTo: '2015-12-31',
    });
    const { uri, digest } = await store.put(JSON.stringify(artifact));
    await registerVersion(db.knex, {
      model: name,
      version: '1.0.0',
      actor: 'setup',
      artifactUri: uri,
      artifactDigest: digest,
    });
    await setChampion(db.knex, { model: name, version: '1.0.0', actor: 'setup' });
    const config: TrainingConfigInput = {
      backend: 'process',
      window: { ...(training.train ?? LAST_3_YEARS), holdoutFrom: '2015-01-01', holdoutTo: '2015-12-31' },
      process: {
        command: training.command,
        env: training.env ?? {},
        heartbeatTimeout: training.heartbeatTimeout ?? '30s',
      },
      validate: { command: VALIDATE },
      rollout: { policy: FAST as Record<string, unknown>, autoApprove: true },
    };
    await db
      .knex('models')
      .where({ name })
      .update({ metadata: JSON.stringify({ training: config }) });
  }

  async function waitJob(jobId: string, done: (r: JobRow) => boolean, ms = 60_000): Promise<JobRow> {
    const until = Date.now() + ms;
    for (;;) {
      const row = (await db.knex('retraining_jobs').where({ id: jobId }).first()) as JobRow;
      if (done(row)) return row;
      if (Date.now() > until) throw new Error(`job ${jobId} stuck in ${row.status}: ${row.error ?? ''}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  const start = (name: string, trigger: RetrainTrigger = 'manual') =>
    startRetrain(
      db.knex,
      { client: temporal.client, taskQueue: temporal.taskQueue },
      {
        model: name,
        trigger,
        reason: `${trigger} test`,
        requestedBy: 'tester',
      },
    );

  it('manual: trains a better model, validates it, registers it with lineage and promotes it', async () => {
    await model('rt-manual', { command: train('seasonal+lags') });
    const { jobId } = await start('rt-manual');
    const deploying = await waitJob(
      jobId,
      (r) => r.status === 'deploying' || ['failed', 'completed', 'rolled_back'].includes(r.status),
    );
    expect(deploying.status, deploying.error ?? '').toBe('deploying');
    const version = deploying.candidate_version!;
    expect(version).toMatch(/^1\.1\.0\+retrain\./);
    // Measured: MAE 2.081 against the champion's 3.114 on 2015, 33 % better.
    expect(deploying.metrics!.improvement).toBeCloseTo(0.332, 2);
    const v = await getVersion(db.knex, 'rt-manual', version);
    expect(v).toMatchObject({ status: expect.any(String), parentVersion: '1.0.0' });
    const trainedOn = sha256OfDays(sliceDays(days, '2012-01-01', '2014-12-31'));
    expect(v.training).toMatchObject({
      jobId,
      trigger: 'manual',
      requestedBy: 'tester',
      window: { ...LAST_3_YEARS, holdoutFrom: '2015-01-01', holdoutTo: '2015-12-31' },
      dataSha256: trainedOn,
      validationHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      holdout: { n: 365 },
    });
    expect(v.metrics).toMatchObject({
      validationHash: (v.training as { validationHash: string }).validationHash,
    });
    expect(v.artifactUri).toBe(`arena-artifact://sha256/${v.artifactDigest}`);

    // The auto-approved rollout runs on traffic where the candidate is the better forecaster.
    const traffic = await startTraffic({
      databaseUrl: db.url,
      model: 'rt-manual',
      ratePerSecond: 300,
      profiles: { '1.0.0': { noise: 10 }, [version]: { noise: 6 } },
    });
    try {
      const done = await waitJob(
        jobId,
        (r) => ['completed', 'failed', 'rolled_back'].includes(r.status),
        90_000,
      );
      expect(done.status, done.error ?? '').toBe('completed');
    } finally {
      await traffic.stop();
    }
    expect((await db.knex('routing').where({ model: 'rt-manual' }).first('champion')).champion).toBe(version);
    const audit = await db
      .knex('audit_log')
      .where({ entity_type: 'retraining_job', entity_id: jobId })
      .pluck('action');
    expect(audit).toEqual([
      'retrain.running',
      'retrain.validation',
      'retrain.deploying',
      'retrain.completed',
    ]);
    // The outcome is a notification event of its own (docs/operations.md, "Day 2"), raised once.
    const events = await eventually('the completed event', async () => {
      const rows = (await db
        .knex('alerts')
        .where({ model: 'rt-manual' })
        .whereLike('type', 'retrain_%')
        .select('type', 'severity', 'title', 'details')) as Array<{
        type: string;
        severity: string;
        title: string;
        details: { figures: Record<string, string> };
      }>;
      return rows.length ? rows : undefined;
    });
    expect(events).toEqual([expect.objectContaining({ type: 'retrain_completed', severity: 'info' })]);
    expect(events[0]!.details.figures).toMatchObject({ trigger: 'manual', candidate: version });
  }, 150_000);

  it('drift: the candidate’s rollout waits for a person, and an alert says so', async () => {
    await model('rt-drift', { command: train('seasonal+lags') });
    const { jobId } = await start('rt-drift', 'drift');
    const row = await waitJob(
      jobId,
      (r) => r.status !== 'pending' && r.status !== 'running' && r.status !== 'validation',
    );
    expect(row.status, row.error ?? '').toBe('deploying');
    const rolloutId = `rt-drift-retrain-${jobId}`;
    for (
      let i = 0;
      i < 50 && (await arena.status(rolloutId).catch(() => null))?.state !== 'awaiting_approval';
      i++
    )
      await new Promise((r) => setTimeout(r, 200));
    expect((await arena.status(rolloutId)).state).toBe('awaiting_approval');
    const alert = await eventually('the promotion_pending alert', async () =>
      db.knex('alerts').where({ rollout_id: rolloutId, type: 'promotion_pending' }).first(),
    );
    expect(alert).toMatchObject({ severity: 'warning', status: 'unread' });
    await arena.reject(rolloutId, { by: 'reviewer', reason: 'not now' });
    const done = await waitJob(jobId, (r) => ['completed', 'failed', 'rolled_back'].includes(r.status));
    expect(done.status).toBe('rolled_back');
    // One page for the wait (the retrain's promotion_pending, not also the rollout's approval_requested),
    // and one event for the outcome.
    const events = await eventually('the rolled-back event', async () => {
      const rows = (await db
        .knex('alerts')
        .where({ model: 'rt-drift' })
        .whereIn('type', ['approval_requested', 'promotion_pending', 'retrain_rolled_back'])
        .orderBy('id')
        .pluck('type')) as string[];
      return rows.includes('retrain_rolled_back') ? rows : undefined;
    });
    expect(events).toEqual(['promotion_pending', 'retrain_rolled_back']);
  }, 90_000);

  it('a failing, a hung and a worse training job end failed with nothing registered', async () => {
    await model('rt-fails', { command: train('deep') });
    await model('rt-hangs', {
      command: train('seasonal+lags'),
      env: { ARENA_EXAMPLE_TRAIN_FAULT: 'hang' },
      heartbeatTimeout: '3s',
    });
    await model('rt-worse', {
      command: train('seasonal'),
      train: { trainFrom: '2012-01-01', trainTo: '2012-04-30' },
    });
    const jobs = await Promise.all(['rt-fails', 'rt-hangs', 'rt-worse'].map((m) => start(m)));
    const [fails, hangs, worse] = await Promise.all(
      jobs.map((j) => waitJob(j.jobId, (r) => ['failed', 'completed', 'rolled_back'].includes(r.status))),
    );
    expect(fails).toMatchObject({ status: 'failed', candidate_version: null });
    expect(fails!.error).toContain('--features must be one of seasonal, seasonal+lags (got "deep")');
    expect(hangs).toMatchObject({ status: 'failed', candidate_version: null });
    expect(hangs!.error).toMatch(/hung: no progress for 3 s/);
    expect(worse).toMatchObject({ status: 'failed', candidate_version: null });
    expect(worse!.error).toMatch(
      /below the floor: MAE \d+\.\d+ vs champion \d+\.\d+: \d+\.\d% worse, needs ≥ 5\.0%/,
    );
    for (const m of ['rt-fails', 'rt-hangs', 'rt-worse'])
      expect(await db.knex('model_versions').where({ model: m }).pluck('version')).toEqual(['1.0.0']);
    // Each failure notifies once, with its reason.
    const failed = await eventually('three failure events', async () => {
      const rows = (await db
        .knex('alerts')
        .where({ type: 'retrain_failed' })
        .whereIn('model', ['rt-fails', 'rt-hangs', 'rt-worse'])
        .orderBy('model')
        .select('model', 'severity', 'title')) as Array<{ model: string; severity: string; title: string }>;
      return rows.length === 3 ? rows : undefined;
    });
    expect(failed.map((a) => [a.model, a.severity])).toEqual([
      ['rt-fails', 'warning'],
      ['rt-hangs', 'warning'],
      ['rt-worse', 'warning'],
    ]);
    expect(failed[0]!.title).toContain('failed: ');
    expect(failed[0]!.title).toContain('--features must be one of');
  }, 90_000);

  it('cancelling a retrain kills its training process', async () => {
    await model('rt-cancel-me', {
      command: train('seasonal+lags'),
      env: { ARENA_EXAMPLE_TRAIN_FAULT: 'hang' },
      heartbeatTimeout: '5m',
    });
    const { jobId, workflowId } = await start('rt-cancel-me');
    const pids = (): string[] => {
      try {
        return execFileSync('pgrep', ['-f', 'model rt-cancel-me'])
          .toString()
          .trim()
          .split('\n')
          .filter(Boolean);
      } catch {
        return [];
      }
    };
    for (let i = 0; i < 100 && pids().length === 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(pids().length).toBeGreaterThan(0);
    await temporal.client.workflow.getHandle(workflowId).cancel();
    const done = await waitJob(
      jobId,
      (r) => ['failed', 'completed', 'rolled_back'].includes(r.status),
      30_000,
    );
    expect(done).toMatchObject({ status: 'failed', error: 'cancelled' });
    for (let i = 0; i < 50 && pids().length > 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(pids()).toEqual([]);
  }, 60_000);

  it('over HTTP: start answers 201 with the job, a second start 409, then status and cancel', async () => {
    await model('rt-over-http', {
      command: train('seasonal+lags'),
      env: { ARENA_EXAMPLE_TRAIN_FAULT: 'hang' },
      heartbeatTimeout: '5m',
    });
    const gateway = await operatorGateway(db, temporal);
    const call = gateway.call;
    try {
      const bad = await call('POST', '/v1/models/rt-over-http/retrain', { trigger: 'whenever' });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatch(/^body\.trigger="whenever"/);
      const started = await call('POST', '/v1/models/rt-over-http/retrain', { reason: 'asked over HTTP' });
      expect(started.status, JSON.stringify(started.body)).toBe(201);
      const jobId = started.body.jobId as string;
      const again = await call('POST', '/v1/models/rt-over-http/retrain', {});
      expect(again.status).toBe(409);
      expect(again.body.error).toContain(jobId);
      await waitJob(jobId, (r) => r.status === 'running');
      expect((await call('GET', `/v1/retraining/${jobId}`)).body).toMatchObject({
        jobId,
        model: 'rt-over-http',
        trigger: 'manual',
        status: 'running',
        backend: 'process',
      });
      expect((await call('POST', `/v1/retraining/${jobId}/cancel`)).status).toBe(202);
      await waitJob(jobId, (r) => r.status === 'failed', 30_000);
      expect((await call('GET', `/v1/retraining/${jobId}`)).body).toMatchObject({
        status: 'failed',
        error: 'cancelled',
        candidate: null,
      });
      const job = (await db.knex('retraining_jobs').where({ id: jobId }).first('params')) as {
        params: Record<string, unknown>;
      };
      expect(job.params).toMatchObject({ requestedBy: 'olga', reason: 'asked over HTTP' });
    } finally {
      await gateway.close();
    }
  }, 60_000);

  it('the http backend: a training service trains, Arena polls, stores, validates; a failed service job fails the retrain', async () => {
    const jobs = new Map<
      string,
      { polls: number; fail: boolean; model: string; version: string; params: unknown }
    >();
    const server = createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        const url = req.url ?? '/';
        if (req.method === 'POST') {
          const body = JSON.parse(data) as {
            model: string;
            version: string;
            jobId: string;
            params: unknown;
          };
          const id = `svc-${body.jobId}`;
          jobs.set(id, {
            polls: 0,
            fail: body.model === 'rt-http-oom',
            model: body.model,
            version: body.version,
            params: body.params,
          });
          res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ jobId: id }));
          return;
        }
        const artifact = /^\/artifacts\/(.+)$/.exec(url);
        if (artifact) {
          const j = jobs.get(artifact[1]!)!;
          const a = trainWeatherModel(days, {
            model: j.model,
            version: j.version,
            featureSet: 'seasonal+lags',
            trainFrom: '2012-01-01',
            trainTo: '2014-12-31',
            holdoutFrom: '2015-01-01',
            holdoutTo: '2015-12-31',
          });
          res.writeHead(200).end(JSON.stringify(a));
          return;
        }
        const j = jobs.get(decodeURIComponent(url.slice(1)))!;
        j.polls++;
        const status = j.polls < 3 ? 'running' : j.fail ? 'failed' : 'succeeded';
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            status,
            progress: { epoch: j.polls },
            ...(status === 'failed' ? { error: 'out of GPU memory' } : {}),
            ...(status === 'succeeded' ? { artifactUrl: `${base}/artifacts/${url.slice(1)}` } : {}),
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      for (const name of ['rt-http', 'rt-http-oom']) {
        await model(name, { command: train('seasonal+lags') });
        const row = (await db.knex('models').where({ name }).first('metadata')) as {
          metadata: { training: Record<string, unknown> };
        };
        await db
          .knex('models')
          .where({ name })
          .update({
            metadata: JSON.stringify({
              training: {
                ...row.metadata.training,
                backend: 'http',
                http: { url: base, pollInterval: '200ms' },
              },
            }),
          });
      }
      const ok = await start('rt-http', 'drift');
      const bad = await start('rt-http-oom');
      const okRow = await waitJob(ok.jobId, (r) => !['pending', 'running', 'validation'].includes(r.status));
      expect(okRow.status, okRow.error ?? '').toBe('deploying');
      expect(okRow.metrics!.improvement).toBeCloseTo(0.332, 2);
      expect(jobs.get(`svc-${ok.jobId}`)!.params).toEqual({
        window: { ...LAST_3_YEARS, holdoutFrom: '2015-01-01', holdoutTo: '2015-12-31' },
      });
      expect((await db.knex('retraining_jobs').where({ id: ok.jobId }).first('backend')).backend).toBe(
        'http',
      );
      const badRow = await waitJob(bad.jobId, (r) =>
        ['failed', 'completed', 'rolled_back'].includes(r.status),
      );
      expect(badRow).toMatchObject({ status: 'failed', candidate_version: null });
      expect(badRow.error).toContain('training failed on the service: out of GPU memory');
      await arena
        .reject(`rt-http-retrain-${ok.jobId}`, { by: 'test', reason: 'end of test' })
        .catch(() => undefined);
    } finally {
      server.close();
    }
  }, 90_000);
  it('the CLI: configure, start, refuse a second job, status, cancel, list', async () => {
    await model('rt-cli', { command: train('seasonal+lags') });
    const env = {
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: inject('stack').temporalAddress,
      ARENA_TASK_QUEUE: temporal.taskQueue,
    };
    const dir = await mkdtemp(join(tmpdir(), 'arena-retrain-cli-'));
    try {
      const good = join(dir, 'training.yaml');
      const bad = join(dir, 'bad.yaml');
      const config = {
        window: { ...LAST_3_YEARS, holdoutFrom: '2015-01-01', holdoutTo: '2015-12-31' },
        process: {
          command: train('seasonal+lags'),
          env: { ARENA_EXAMPLE_TRAIN_FAULT: 'hang' },
          heartbeatTimeout: '5m',
        },
        validate: { command: VALIDATE },
      };
      await writeFile(good, toYaml(config));
      await writeFile(bad, toYaml({ ...config, process: { ...config.process, heartbeatTimeout: 'soon' } }));

      const [refused, badLimit] = await Promise.all([
        runCli(['retrain', 'configure', 'rt-cli', '--config', bad], env),
        runCli(['retrain', 'list', '--limit', 'lots'], env),
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`${bad}.process.heartbeatTimeout="soon"`);
      expect(badLimit.code).not.toBe(0);
      expect(badLimit.stderr).toContain('--limit="lots"');

      const started = await runCli(['retrain', 'rt-cli', '--config', good, '--by', 'alice', '--json'], env);
      expect(started.code, started.stderr).toBe(0);
      const { jobId } = JSON.parse(started.stdout) as { jobId: string };
      const stored = (await db.knex('models').where({ name: 'rt-cli' }).first('metadata')) as {
        metadata: { training: unknown };
      };
      expect(stored.metadata.training).toEqual(config);
      await waitJob(jobId, (r) => r.status === 'running');
      const second = await runCli(['retrain', 'rt-cli'], env);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toContain(`A retraining job of rt-cli is already running (${jobId})`);

      const status = await runCli(['retrain', 'status', jobId, '--json'], env);
      expect(JSON.parse(status.stdout)).toMatchObject({
        jobId,
        model: 'rt-cli',
        trigger: 'manual',
        status: 'running',
        backend: 'process',
      });
      expect((await runCli(['retrain', 'cancel', jobId], env)).code).toBe(0);
      await waitJob(jobId, (r) => r.status === 'failed', 30_000);
      const list = await runCli(['retrain', 'list', '--model', 'rt-cli', '--json'], env);
      expect(JSON.parse(list.stdout)).toEqual([
        expect.objectContaining({ jobId, status: 'failed', error: 'cancelled', candidate: null }),
      ]);
      const text = await runCli(['retrain', 'list', '--model', 'rt-cli'], env);
      expect(text.stdout).toMatch(new RegExp(`${jobId}  rt-cli  manual +failed +- .*s\\n +cancelled`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
