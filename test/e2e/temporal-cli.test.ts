import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PolicyInput } from '../../src/policy/policy.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import type { RolloutStatus } from '../../src/rollout/types.js';
import { getRouting } from '../../src/routing/store.js';
import { startTraffic, type Traffic } from '../../src/simulate/traffic.js';
import { runCli } from '../support/cli.js';
import { replayAndMaybeRecord } from '../support/histories.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { eventually } from '../support/weather-model.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The runbook's command blocks by name: the test runs exactly what docs/temporal-cli.md tells people to run. */
async function runbookBlocks(): Promise<Map<string, string>> {
  const text = await readFile(path.join(root, 'docs/temporal-cli.md'), 'utf8');
  const blocks = new Map<string, string>();
  for (const m of text.matchAll(/```sh\n# runbook: ([\w-]+)\n([\s\S]*?)```/g)) blocks.set(m[1]!, m[2]!);
  return blocks;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const run = (file: string, args: string[], env: Record<string, string>, timeout = 120_000): Promise<Run> =>
  new Promise((resolve) => {
    execFile(file, args, { cwd: root, env: { ...process.env, ...env }, timeout }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });

/** Seconds instead of days, with an approval to wait for. */
const POLICY: PolicyInput = {
  approval: { required: true, timeout: '10m', warnBefore: '1s' },
  stages: [
    { mode: 'shadow', duration: '4s' },
    { mode: 'canary', weight: 20, duration: '5s' },
  ],
  analysis: { interval: '500ms', minSamples: 40, maxExtension: '10s', tuningN: 500 },
  primaryMetric: { name: 'abs_error', direction: 'lower', minImprovement: 0.02 },
  guardrails: [{ metric: 'error', max: 0.05, rollbackAbove: 0.15 }],
  onInconclusive: 'rollback',
  watch: { duration: '2s' },
};

/** The Temporal Web UI's own API, called the way its pages call it. */
class WebUi {
  private csrf: string | undefined;
  constructor(
    private readonly base: string,
    private readonly namespace: string,
  ) {}

  private async token(): Promise<string> {
    if (this.csrf) return this.csrf;
    const res = await fetch(`${this.base}/api/v1/settings`);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('_csrf='));
    this.csrf = cookie?.split(';')[0]!.slice('_csrf='.length);
    expect(this.csrf, 'the Web UI hands out a CSRF token').toBeTruthy();
    return this.csrf!;
  }

  private async post(pathname: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const csrf = await this.token();
    const res = await fetch(`${this.base}/api/v1/namespaces/${this.namespace}/workflows/${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-CSRF-TOKEN': csrf, cookie: `_csrf=${csrf}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as unknown };
  }

  private static payloads(input: unknown) {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    return [{ metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify(input)) }];
  }

  signal(workflowId: string, name: string, input: unknown) {
    return this.post(`${encodeURIComponent(workflowId)}/signal/${name}`, {
      signalName: name,
      workflowExecution: { workflowId },
      input: { payloads: WebUi.payloads(input) },
    });
  }

  update(workflowId: string, name: string, input: unknown) {
    return this.post(`${encodeURIComponent(workflowId)}/update/${name}`, {
      workflowExecution: {},
      request: {
        meta: { updateId: `ui-${Date.now()}-${Math.random()}`, identity: 'web-ui-test' },
        input: { args: { payloads: WebUi.payloads(input) } },
      },
    });
  }
}

describe('operating a rollout with nothing but the `temporal` CLI (docs/temporal-cli.md)', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let blocks: Map<string, string>;
  let dir: string;
  let env: Record<string, string>;
  const traffic: Traffic[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('temporal_cli');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    blocks = await runbookBlocks();
    dir = await mkdtemp(path.join(tmpdir(), 'arena-temporal-cli-'));
    await writeFile(path.join(dir, 'policy.json'), JSON.stringify(POLICY));
    const stack = inject('stack');
    env = {
      PATH: `${path.dirname(stack.temporalCli)}${path.delimiter}${process.env.PATH ?? ''}`,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: stack.namespace,
      DATABASE_URL: db.url,
      ARENA_TASK_QUEUE: temporal.taskQueue,
    };
  });
  afterAll(async () => {
    for (const t of traffic) await t.stop();
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A model (unique to this run: the server outlives it) with a better challenger and traffic to judge. */
  async function model(label: string): Promise<string> {
    const name = `${label}-${temporal.taskQueue.slice(-6)}`;
    for (const v of ['1.0.0', '1.1.0'])
      await registerVersion(db.knex, { model: name, version: v, actor: 'setup' });
    await setChampion(db.knex, { model: name, version: '1.0.0', actor: 'setup' });
    traffic.push(
      await startTraffic({
        databaseUrl: db.url,
        model: name,
        profiles: { '1.0.0': { noise: 10 }, '1.1.0': { noise: 6 } },
        ratePerSecond: 300,
      }),
    );
    return name;
  }

  /** Starts a rollout with the example client script, as its docs say, and returns its workflow id. */
  async function startWithExample(name: string, proposedBy: string): Promise<string> {
    const r = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'examples/client/rollout.ts',
        name,
        '1.1.0',
        '--start-only',
        '--policy',
        path.join(dir, 'policy.json'),
        '--proposed-by',
        proposedBy,
      ],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const id = /workflow id: (\S+)/.exec(r.stdout)?.[1];
    expect(id, r.stdout).toBeTruthy();
    return id!;
  }

  /** One runbook block through bash, for one workflow; `edit` adapts its payload (another sender). */
  async function runbook(name: string, vars: Record<string, string>, edit?: (cmd: string) => string) {
    const block = blocks.get(name);
    expect(block, `docs/temporal-cli.md has no block "# runbook: ${name}"`).toBeDefined();
    const r = await run('bash', ['-euo', 'pipefail', '-c', edit ? edit(block!) : block!], {
      ...env,
      ...vars,
    });
    expect(r.code, `${name}: ${r.stderr}${r.stdout}`).toBe(0);
    return r.stdout;
  }

  /** The `status` query through the runbook's command, read back as JSON. */
  async function status(workflowId: string): Promise<RolloutStatus> {
    const out = await runbook('status', { WORKFLOW_ID: workflowId }, (c) => `${c.trim()} --output json`);
    const parsed = JSON.parse(out) as { queryResult: [RolloutStatus] };
    return parsed.queryResult[0];
  }

  const until = (workflowId: string, what: string, ok: (s: RolloutStatus) => boolean, ms = 90_000) =>
    eventually(
      what,
      async () => {
        const s = await status(workflowId);
        return ok(s) ? s : undefined;
      },
      ms,
    );

  it('approves by signal, refuses a self-approval and malformed payloads by signal with a record of each, pauses, and lists the promoted rollout', async () => {
    const name = await model('tcli');
    const wf = await startWithExample(name, 'dana');
    const vars = { WORKFLOW_ID: wf, MODEL: name };
    await until(wf, 'awaiting approval', (s) => s.state === 'awaiting_approval');

    expect(await runbook('list-model', vars)).toContain(wf);
    expect(await runbook('list-awaiting', vars)).toContain(wf);
    expect(await runbook('describe', vars)).toMatch(
      /rolloutWorkflow[\s\S]*ArenaState[\s\S]*awaiting_approval/,
    );

    // Every handler is described in the workflow's metadata, which the Web UI shows beside each name.
    const metadata = await runbook('metadata', vars, (c) => `${c.trim()} --output json`);
    type Definitions = Record<string, Array<{ name: string; description?: string }>>;
    const definition = (JSON.parse(metadata) as { queryResult: [{ definition: Definitions }] }).queryResult[0]
      .definition;
    for (const kind of ['updateDefinitions', 'signalDefinitions'])
      expect(definition[kind]!.map((d) => d.name).sort(), kind).toEqual([
        'abort',
        'approve',
        'pause',
        'promoteNow',
        'reject',
        'resume',
      ]);
    // What it does, what it takes and an example, for each action; signals say where a refusal goes.
    for (const d of definition.updateDefinitions!)
      expect(d.description, d.name).toMatch(
        /\. Takes \{by.*example: \{"by":"carol".*As an Update it answers/,
      );
    for (const d of definition.signalDefinitions!)
      expect(d.description, d.name).toMatch(
        /\. Takes \{by.*example: \{"by":"carol".*recorded in the rollout's events/,
      );
    expect(definition.queryDefinitions!.find((d) => d.name === 'status')?.description).toMatch(
      /^The rollout as it stands.*Takes no input\.$/,
    );
    expect(definition.signalDefinitions!.find((d) => d.name === 'approve')!.description).toContain(
      'separation of duties',
    );

    // The proposer's own approval by signal: the server says "succeeded", the rollout keeps waiting, and
    // the refusal is in the trail, the audit log and the alerts.
    await runbook('approve-by-signal', vars, (c) => c.replace('"by":"carol"', '"by":"dana"'));
    const refused = await until(wf, 'the self-approval refused', (s) =>
      s.events.some((e) => e.type === 'signal_refused'),
    );
    expect(refused.state).toBe('awaiting_approval');
    expect(refused.approvals ?? []).toEqual([]); // the CLI's JSON shows an empty list as null
    expect(refused.events.at(-1)).toMatchObject({
      type: 'signal_refused',
      actor: 'dana',
      reason: expect.stringContaining(
        'dana proposed this rollout and may not approve it (separation of duties)',
      ),
    });
    const rolloutId = refused.rolloutId;
    const shown = await runCli(['rollout', 'status', rolloutId], env);
    expect(shown.stdout).toMatch(/signal_refused.*dana/s);
    expect(shown.stdout).toContain('separation of duties');
    const alerts = await eventually('the refusal alert', async () => {
      const rows = (await db
        .knex('alerts')
        .where({ rollout_id: rolloutId, type: 'signal_refused' })) as Array<{
        title: string;
        severity: string;
      }>;
      return rows.length > 0 ? rows : undefined;
    });
    expect(alerts[0]).toMatchObject({ severity: 'warning' });
    expect(alerts[0]!.title).toMatch(/dana sent approve by signal; refused: .*separation of duties/);
    const listed = await runCli(['alerts', 'list', '--json'], env);
    expect(listed.stdout).toContain('signal_refused');
    expect(
      await db
        .knex('audit_log')
        .where({ entity_id: rolloutId, action: 'rollout.signal_refused', actor: 'dana' }),
    ).toHaveLength(1);

    // Malformed payloads: each refused and recorded with its problem; none fails the workflow task.
    const malformed: Array<[string, RegExp]> = [
      [`'{"by":"carol","coment":"typo"}'`, /unknown field "coment"/],
      [`'{"comment":"who?"}'`, /`by` \(who is acting\) is required/],
      [`'{"by":42}'`, /`by` must be text, got 42/],
      [`'"carol"'`, /must be one JSON object/],
      [`'{"by":"a\\u0000b"}'`, /NUL character/],
      // An encoding the Web UI's form offers: the SDK could not decode it, and used to fail every task.
      [
        `'{"by":"carol"}' --input-meta encoding=json/protobuf`,
        /cannot be decoded \(encoding "json\/protobuf"/,
      ],
      ['', /must be one JSON object .*got no payload/],
    ];
    for (const [input] of malformed)
      await runbook('approve-by-signal', vars, (c) =>
        c.replace(/--input '[^']*'/, input ? `--input ${input}` : ''),
      );
    const afterBad = await until(
      wf,
      'the malformed signals recorded',
      (s) => s.events.filter((e) => e.type === 'signal_refused').length === 1 + malformed.length,
    );
    const reasons = afterBad.events
      .filter((e) => e.type === 'signal_refused')
      .slice(1)
      .map((e) => e.reason);
    malformed.forEach(([, pattern], i) => expect(reasons[i]).toMatch(pattern));
    expect(afterBad.state).toBe('awaiting_approval');

    // Carol's approval by signal counts.
    await runbook('approve-by-signal', vars);
    await until(wf, 'the stages after approval', (s) => s.state === 'shadow' || s.state === 'canary');
    expect((await status(wf)).approvals).toEqual([expect.objectContaining({ by: 'carol' })]);

    // The stage watch's latest verdict is in its heartbeat.
    const beat = await eventually('a stage watch heartbeat', async () => {
      const described = JSON.parse(await runbook('heartbeat', vars)) as {
        pendingActivities?: Array<{ activityType?: { name?: string }; heartbeatDetails?: unknown }>;
      };
      const watch = described.pendingActivities?.find((a) => a.activityType?.name === 'watchStage');
      return watch?.heartbeatDetails ? watch : undefined;
    });
    expect(JSON.stringify(beat.heartbeatDetails)).toContain('lastSeq');

    const paused = await runbook('pause', vars);
    expect(paused).toMatch(/paused.*true/s);
    await until(wf, 'paused', (s) => s.paused);
    await runbook('resume', vars);
    await until(wf, 'resumed', (s) => !s.paused);

    const final = await until(wf, 'the end of the rollout', (s) => s.state === 'promoted', 120_000);
    expect(final.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['signal_refused', 'approved', 'paused', 'resumed']),
    );
    await eventually('the promoted rollout listed', async () =>
      (await runbook('list-promoted', vars)).includes(wf),
    );
    await replayAndMaybeRecord(db, temporal, rolloutId, 'rollout-approved-by-signal');
  }, 300_000);

  it('approves by update, survives a reset to the last workflow task, and aborts by signal', async () => {
    const name = await model('tcli-abort');
    const wf = await startWithExample(name, 'dana');
    const vars = { WORKFLOW_ID: wf, MODEL: name };
    const waiting = await until(wf, 'awaiting approval', (s) => s.state === 'awaiting_approval');

    // The proposer's approval by update is answered with the refusal, and nothing is recorded.
    const self = await run(
      'bash',
      ['-c', blocks.get('approve-by-update')!.replace('"by":"carol"', '"by":"dana"')],
      { ...env, ...vars },
    );
    expect(self.code).not.toBe(0);
    expect(self.stderr + self.stdout).toContain('separation of duties');

    await runbook('reset-last-task', vars);
    // The new run rebuilt the rollout from history; Arena's own client follows it there.
    const afterReset = await until(wf, 'the reset run answering', (s) => s.state === 'awaiting_approval');
    expect(afterReset.events.map((e) => e.seq)).toEqual(waiting.events.map((e) => e.seq));
    const viaArena = await runCli(['rollout', 'status', waiting.rolloutId, '--json'], env);
    expect(viaArena.code, viaArena.stderr).toBe(0);
    expect(JSON.parse(viaArena.stdout)).toMatchObject({ state: 'awaiting_approval' });

    const approved = await runbook('approve-by-update', vars);
    expect(approved).toContain('carol');
    await until(wf, 'a stage', (s) => s.state === 'shadow' || s.state === 'canary');
    await runbook('abort-by-signal', vars);
    const final = await until(wf, 'aborted', (s) => s.state === 'aborted');
    expect(final.events.at(-1)).toMatchObject({
      actor: 'carol',
      reason: expect.stringContaining('p95 latency'),
    });
    expect((await getRouting(db.knex, name)).weightBp).toBe(0);
  }, 300_000);

  // What the Web UI's More Actions → "Send a Signal" / "Send an Update" send: the UI server's HTTP API, with
  // the CSRF token it hands out in a cookie and the payload encoded as the UI encodes it.
  it.runIf(inject('stack').temporalUi)(
    'counts approvals sent from the Web UI as a Signal and as an Update, and records a refused one',
    async () => {
      const name = await model('tcli-ui');
      await writeFile(
        path.join(dir, 'two-approvals.json'),
        JSON.stringify({ ...POLICY, approval: { ...POLICY.approval, minApprovals: 2 } }),
      );
      const r = await run(
        process.execPath,
        ['--import', 'tsx', 'examples/client/rollout.ts', name, '1.1.0', '--start-only'].concat([
          '--policy',
          path.join(dir, 'two-approvals.json'),
          '--proposed-by',
          'dana',
        ]),
        env,
      );
      const wf = /workflow id: (\S+)/.exec(r.stdout)?.[1];
      expect(wf, r.stderr).toBeTruthy();
      await until(wf!, 'awaiting approval', (s) => s.state === 'awaiting_approval');
      const ui = new WebUi(inject('stack').temporalUi, inject('stack').namespace);

      expect((await ui.signal(wf!, 'approve', { by: 'dana' })).status).toBe(200);
      const refusedUpdate = await ui.update(wf!, 'approve', { by: 'dana' });
      expect(JSON.stringify(refusedUpdate.body)).toContain('separation of duties');
      await until(wf!, 'the refused UI signal recorded', (s) =>
        s.events.some((e) => e.type === 'signal_refused' && e.actor === 'dana'),
      );

      expect((await ui.signal(wf!, 'approve', { by: 'carol', comment: 'from the UI' })).status).toBe(200);
      await until(wf!, "carol's approval", (s) => (s.approvals ?? []).length === 1);
      const accepted = await ui.update(wf!, 'approve', { by: 'erin' });
      expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
      const started = await until(wf!, 'the stages', (s) => s.state === 'shadow' || s.state === 'canary');
      expect(started.approvals.map((a) => a.by)).toEqual(['carol', 'erin']);
      await runbook('abort-by-signal', { WORKFLOW_ID: wf! });
      await until(wf!, 'aborted', (s) => s.state === 'aborted');
    },
    300_000,
  );
});
