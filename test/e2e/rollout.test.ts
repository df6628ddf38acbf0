import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArenaClient } from '../../src/client/arena-client.js';
import { verifyAuditChain } from '../../src/db/audit.js';
import type { PolicyInput } from '../../src/policy/policy.js';
import { getVersion, registerVersion, setChampion } from '../../src/registry/registry.js';
import { getRouting } from '../../src/routing/store.js';
import type { RolloutStatus } from '../../src/rollout/types.js';
import { runCli } from '../support/cli.js';
import { replayAndMaybeRecord as recordHistory } from '../support/histories.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectTestTemporal, type TestTemporal } from '../support/temporal.js';
import { startTraffic, type VersionProfile } from '../../src/simulate/traffic.js';
import { eventually } from '../support/weather-model.js';

/** The default lifecycle with seconds instead of days. */
const FAST: PolicyInput = {
  approval: { required: true, timeout: '60s', warnBefore: '1s' },
  stages: [
    { mode: 'shadow', duration: '3s' },
    { mode: 'canary', weight: 20, duration: '3s' },
    { mode: 'canary', weight: 50, duration: '3s' },
  ],
  analysis: { interval: '500ms', minSamples: 40, maxExtension: '6s', alpha: 0.05, tuningN: 500 },
  primaryMetric: {
    name: 'abs_error',
    direction: 'lower',
    minImprovement: 0.02,
    rollbackRelativeDegradation: 0.05,
  },
  guardrails: [
    { metric: 'error', max: 0.05, rollbackAbove: 0.15 },
    { metric: 'latency_ms', quantile: 0.95, max: 500, rollbackRelativeIncrease: 1.0 },
  ],
  onInconclusive: 'rollback',
  watch: { duration: '2s', rollbackOnRelativeDegradation: 0.5 },
};

describe('rollout workflow on a real Temporal server and Postgres', () => {
  let db: TestDatabase;
  let temporal: TestTemporal;
  let worker: Worker;
  let running: Promise<void>;
  let arena: ArenaClient;

  async function model(name: string, profiles: Record<string, VersionProfile>) {
    for (const v of Object.keys(profiles))
      await registerVersion(db.knex, { model: name, version: v, actor: 'setup' });
    await setChampion(db.knex, { model: name, version: Object.keys(profiles)[0]!, actor: 'setup' });
    return startTraffic({ databaseUrl: db.url, model: name, profiles, ratePerSecond: 300 });
  }

  const replayAndMaybeRecord = (rolloutId: string, fixture: string) =>
    recordHistory(db, temporal, rolloutId, fixture);

  async function waitFor(
    rolloutId: string,
    predicate: (s: RolloutStatus) => boolean,
    timeoutMs = 60_000,
  ): Promise<RolloutStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await arena.status(rolloutId);
      if (predicate(s)) return s;
      if (Date.now() > deadline)
        throw new Error(`timed out; last state ${s.state}: ${JSON.stringify(s.lastAnalysis?.reasons)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('rollout');
    temporal = await connectTestTemporal();
    worker = await temporal.worker(db.knex);
    running = worker.run();
    arena = new ArenaClient({
      temporal: temporal.client,
      knex: db.knex,
      taskQueue: temporal.taskQueue,
      workflowIdPrefix: `test-${temporal.taskQueue.slice(-8)}`,
    });
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await temporal?.close();
    await db?.drop();
  });

  it('promotes a better challenger after approval, through shadow and both canaries', async () => {
    const traffic = await model('better', { '1.0.0': { noise: 10 }, '1.1.0': { noise: 6 } });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'better',
        challenger: '1.1.0',
        policy: FAST,
        proposedBy: 'dana',
      });
      await waitFor(rolloutId, (s) => s.state === 'awaiting_approval');
      await expect(arena.approve(rolloutId, { by: 'dana' })).rejects.toThrow(/separation of duties/);
      const approved = await arena.approve(rolloutId, { by: 'erin', comment: 'offline metrics look good' });
      expect(approved.approvals).toEqual([
        expect.objectContaining({ by: 'erin', comment: 'offline metrics look good' }),
      ]);

      const shadow = await waitFor(rolloutId, (s) => s.state === 'shadow');
      expect(shadow.stage).toMatchObject({ index: 0, mode: 'shadow', weightBp: 0 });
      const canary = await waitFor(rolloutId, (s) => s.state === 'canary' && s.stage?.weightBp === 2000);
      expect((await getRouting(db.knex, 'better')).weightBp).toBe(2000);
      expect(canary.lastAnalysis?.mode).toBe('shadow');

      const final = await arena.result(rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.reasons)).toBe('promoted');
      expect(final.events.map((e) => e.to)).toEqual(
        expect.arrayContaining([
          'awaiting_approval',
          'shadow',
          'canary',
          'deciding',
          'promoting',
          'watching',
          'promoted',
        ]),
      );
      expect(await getRouting(db.knex, 'better')).toMatchObject({
        champion: '1.1.0',
        challenger: null,
        mode: 'off',
      });
      expect((await getVersion(db.knex, 'better', '1.0.0')).status).toBe('archived');
      const events = await db.knex('rollout_events').where({ rollout_id: rolloutId }).orderBy('seq');
      expect(events.map((e: { seq: number }) => e.seq)).toEqual(events.map((_: unknown, i: number) => i + 1));
      expect(
        await db.knex('analyses').where({ rollout_id: rolloutId }).count({ n: '*' }).first(),
      ).toMatchObject({ n: expect.any(Number) });
      const row = await db.knex('rollouts').where({ id: rolloutId }).first();
      expect(row).toMatchObject({ state: 'promoted' });
      await replayAndMaybeRecord(rolloutId, 'rollout-promoted');
    } finally {
      await traffic.stop();
    }
  });

  it('rolls back a challenger that raises the error rate during the first canary', async () => {
    const traffic = await model('faulty', { '2.0.0': { noise: 10 }, '2.1.0': { noise: 8, errorRate: 0.4 } });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'faulty',
        challenger: '2.1.0',
        policy: {
          ...FAST,
          approval: { required: false },
          stages: [
            { mode: 'canary', weight: 30, duration: '20s' },
            { mode: 'canary', weight: 50, duration: '5s' },
          ],
        },
        proposedBy: 'dana',
      });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('rolled_back');
      expect(final.decision).toMatch(/error/);
      expect(final.events.some((e) => e.to === 'canary')).toBe(true);
      expect(await getRouting(db.knex, 'faulty')).toMatchObject({
        champion: '2.0.0',
        challenger: null,
        mode: 'off',
        weightBp: 0,
      });
      expect((await getVersion(db.knex, 'faulty', '2.1.0')).status).toBe('rejected');
      const alert = await db
        .knex('alerts')
        .where({ rollout_id: rolloutId, type: 'rollback_executed' })
        .first();
      expect(alert).toMatchObject({ severity: 'critical' });
      await replayAndMaybeRecord(rolloutId, 'rollout-rolled-back');
    } finally {
      await traffic.stop();
    }
  });

  it('rolls back a challenger that is worse on the primary metric', async () => {
    const traffic = await model('worse', { '9.0.0': { noise: 8 }, '9.1.0': { noise: 14 } });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'worse',
        challenger: '9.1.0',
        policy: {
          ...FAST,
          approval: { required: false },
          stages: [{ mode: 'canary', weight: 50, duration: '30s' }],
        },
        proposedBy: 'dana',
      });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('rolled_back');
      expect(final.decision).toMatch(/abs_error/);
      expect(await getRouting(db.knex, 'worse')).toMatchObject({ champion: '9.0.0', mode: 'off' });
    } finally {
      await traffic.stop();
    }
  });

  it('ends when rejected, and refuses actions that do not fit the state', async () => {
    await registerVersion(db.knex, { model: 'rejected', version: '1.0.0', actor: 'setup' });
    await registerVersion(db.knex, { model: 'rejected', version: '1.1.0', actor: 'setup' });
    await setChampion(db.knex, { model: 'rejected', version: '1.0.0', actor: 'setup' });
    const { rolloutId } = await arena.startRollout({
      model: 'rejected',
      challenger: '1.1.0',
      policy: { ...FAST, approval: { approvers: ['boss'] } },
      proposedBy: 'dana',
    });
    await waitFor(rolloutId, (s) => s.state === 'awaiting_approval');
    await expect(arena.approve(rolloutId, { by: 'erin' })).rejects.toThrow(/not an approver/);
    await expect(arena.pause(rolloutId, { by: 'erin' })).rejects.toThrow(
      /cannot pause a rollout that is awaiting_approval/,
    );
    await expect(
      arena.startRollout({ model: 'rejected', challenger: '1.1.0', policy: FAST, proposedBy: 'x' }),
    ).rejects.toThrow(/already active/);
    await arena.reject(rolloutId, { by: 'boss', reason: 'not this quarter' });
    const final = await arena.result(rolloutId);
    expect(final.state).toBe('rejected');
    expect(await db.knex('approvals').where({ subject_id: rolloutId }).first()).toMatchObject({
      actor: 'boss',
      decision: 'rejected',
      comment: 'not this quarter',
    });
    await expect(arena.approve(rolloutId, { by: 'boss' })).rejects.toThrow();
  });

  it('expires without approval and raises an alert', async () => {
    await registerVersion(db.knex, { model: 'expiring', version: '1.0.0', actor: 'setup' });
    await registerVersion(db.knex, { model: 'expiring', version: '1.1.0', actor: 'setup' });
    await setChampion(db.knex, { model: 'expiring', version: '1.0.0', actor: 'setup' });
    const { rolloutId } = await arena.startRollout({
      model: 'expiring',
      challenger: '1.1.0',
      policy: { ...FAST, approval: { timeout: '2s', warnBefore: '1s' } },
      proposedBy: 'dana',
    });
    const final = await arena.result(rolloutId);
    expect(final.state).toBe('expired');
    const types = await db.knex('alerts').where({ rollout_id: rolloutId }).pluck('type');
    expect(types.sort()).toEqual(['approval_expired', 'approval_expiring', 'approval_requested']);
  });

  it('pauses, resumes and aborts mid-canary with the champion restored', async () => {
    const traffic = await model('aborted', { '3.0.0': { noise: 10 }, '3.1.0': { noise: 10 } });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'aborted',
        challenger: '3.1.0',
        policy: {
          ...FAST,
          approval: { required: false },
          stages: [{ mode: 'canary', weight: 10, duration: '60s' }],
        },
        proposedBy: 'dana',
      });
      await waitFor(rolloutId, (s) => s.state === 'canary' && (s.lastAnalysis?.seq ?? 0) >= 2);
      const paused = await arena.pause(rolloutId, { by: 'ops', reason: 'investigating' });
      expect(paused.paused).toBe(true);
      await expect(arena.pause(rolloutId, { by: 'ops' })).rejects.toThrow(/already paused/);
      // The cancelled stage watch may go on storing analyses until a heartbeat's response tells it of the
      // pause; the watch after the resume must never reuse their seqs (it would get their stale verdicts
      // back). Checked below from the history: each cancelled watch's reserved block is skipped.
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await arena.resume(rolloutId, { by: 'ops' })).paused).toBe(false);
      await new Promise((r) => setTimeout(r, 1_000));
      await expect(arena.abort(rolloutId, { by: 'ops', reason: '' })).rejects.toThrow(/reason is required/);
      await arena.abort(rolloutId, { by: 'ops', reason: 'customer complaint' });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('aborted');
      expect(final.decision).toMatch(/aborted by ops: customer complaint/);
      expect(await getRouting(db.knex, 'aborted')).toMatchObject({
        champion: '3.0.0',
        mode: 'off',
        weightBp: 0,
      });
      const history = await replayAndMaybeRecord(rolloutId, 'rollout-paused-aborted');
      const watches: Array<{ eventId: number; firstSeq: number; maxAnalyses: number; cancelled: boolean }> =
        [];
      for (const e of history.events ?? []) {
        const scheduled = e.activityTaskScheduledEventAttributes;
        if (scheduled?.activityType?.name === 'watchStage') {
          const arg = JSON.parse(new TextDecoder().decode(scheduled.input!.payloads![0]!.data!)) as {
            firstSeq: number;
            maxAnalyses: number;
          };
          watches.push({ eventId: Number(e.eventId), ...arg, cancelled: false });
        }
        const cancel = e.activityTaskCancelRequestedEventAttributes;
        if (cancel) {
          const w = watches.find((x) => x.eventId === Number(cancel.scheduledEventId));
          if (w) w.cancelled = true;
        }
      }
      expect(watches.filter((w) => w.cancelled).length).toBeGreaterThanOrEqual(2);
      for (let i = 1; i < watches.length; i++) {
        const prev = watches[i - 1]!;
        if (prev.cancelled)
          expect(watches[i]!.firstSeq).toBeGreaterThanOrEqual(prev.firstSeq + prev.maxAnalyses);
      }
      // Every stored analysis belongs to the block of one watch, so none was made twice under one seq.
      const seqs = (await db.knex('analyses').where({ rollout_id: rolloutId }).pluck('seq')) as number[];
      for (const seq of seqs)
        expect(
          watches.some((w) => seq >= w.firstSeq && seq < w.firstSeq + w.maxAnalyses),
          `seq ${seq}`,
        ).toBe(true);
    } finally {
      await traffic.stop();
    }
  });

  it('promotes now on request, skipping the remaining stages', async () => {
    const traffic = await model('early', { '4.0.0': { noise: 10 }, '4.1.0': { noise: 9 } });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'early',
        challenger: '4.1.0',
        policy: {
          ...FAST,
          approval: { required: false },
          stages: [
            { mode: 'shadow', duration: '60s' },
            { mode: 'canary', weight: 50, duration: '60s' },
          ],
        },
        proposedBy: 'dana',
      });
      await waitFor(rolloutId, (s) => s.state === 'shadow');
      await arena.promoteNow(rolloutId, { by: 'lead', reason: 'hotfix' });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('promoted');
      expect(final.events.some((e) => e.type === 'promote_now' && e.actor === 'lead')).toBe(true);
      expect((await getRouting(db.knex, 'early')).champion).toBe('4.1.0');
    } finally {
      await traffic.stop();
    }
  });

  it('continues as new on a long rollout without losing its place, its events or its approvals', async () => {
    const traffic = await model('long', { '5.0.0': { noise: 10 }, '5.1.0': { noise: 7 } });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'long',
        challenger: '5.1.0',
        policy: {
          ...FAST,
          stages: [{ mode: 'canary', weight: 50, duration: '8s' }],
          analysis: { interval: '200ms', minSamples: 40, maxExtension: '6s', alpha: 0.05, tuningN: 500 },
        },
        proposedBy: 'dana',
        historyLimit: 60,
      });
      await arena.approve(rolloutId, { by: 'erin' });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('promoted');
      expect(final.approvals).toEqual([expect.objectContaining({ by: 'erin' })]);
      const row = await db.knex('rollouts').where({ id: rolloutId }).first('workflow_id', 'run_id');
      const runs: string[] = [];
      for await (const w of temporal.client.workflow.list({ query: `WorkflowId = '${row.workflow_id}'` }))
        runs.push(w.status.name);
      expect(runs.filter((s) => s === 'CONTINUED_AS_NEW').length).toBeGreaterThan(0);
      const seqs = await db
        .knex('rollout_events')
        .where({ rollout_id: rolloutId })
        .orderBy('seq')
        .pluck('seq');
      expect(seqs).toEqual(seqs.map((_: number, i: number) => i + 1));
      const analyses = await db.knex('analyses').where({ rollout_id: rolloutId }).pluck('seq');
      expect(new Set(analyses).size).toBe(analyses.length);
    } finally {
      await traffic.stop();
    }
  });

  it('follows onInconclusive when the challenger is no better: rollback', async () => {
    const traffic = await model('same', { '6.0.0': { noise: 10 }, '6.1.0': { noise: 10 } });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'same',
        challenger: '6.1.0',
        policy: {
          ...FAST,
          approval: { required: false },
          stages: [{ mode: 'canary', weight: 50, duration: '3s' }],
          analysis: { interval: '500ms', minSamples: 40, maxExtension: '2s', alpha: 0.05, tuningN: 500 },
          onInconclusive: 'rollback',
        },
        proposedBy: 'dana',
      });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('rolled_back');
      expect(final.decision).toMatch(/final decision: inconclusive/);
      expect(final.events.some((e) => e.type === 'extended')).toBe(true);
      expect(await getRouting(db.knex, 'same')).toMatchObject({ champion: '6.0.0', mode: 'off' });
    } finally {
      await traffic.stop();
    }
  });

  it('asks a person instead of promoting on missing data, even under onInconclusive: promote', async () => {
    // Registered, with no traffic at all: every analysis waits for data to the end.
    for (const v of ['6.5.0', '6.6.0'])
      await registerVersion(db.knex, { model: 'silent', version: v, actor: 'setup' });
    await setChampion(db.knex, { model: 'silent', version: '6.5.0', actor: 'setup' });
    const { rolloutId } = await arena.startRollout({
      model: 'silent',
      challenger: '6.6.0',
      policy: {
        ...FAST,
        approval: { required: false },
        stages: [{ mode: 'canary', weight: 50, duration: '1s' }],
        analysis: { interval: '250ms', minSamples: 40, maxExtension: '500ms' },
        onInconclusive: 'promote',
      },
      proposedBy: 'dana',
    });
    const asked = await waitFor(rolloutId, (s) => s.events.some((e) => e.type === 'decision_requested'));
    expect(asked.state).toBe('deciding');
    expect(asked.lastAnalysis?.decision).toBe('waiting');
    expect(
      await db.knex('alerts').where({ rollout_id: rolloutId, type: 'promotion_pending' }).first('id'),
    ).toBeDefined();
    await arena.abort(rolloutId, { by: 'erin', reason: 'no traffic to judge' });
    expect((await arena.result(rolloutId)).state).toBe('aborted');
  });

  it('rolls back to the previous champion when the new one degrades during the watch', async () => {
    const profiles: Record<string, VersionProfile> = { '7.0.0': { noise: 10 }, '7.1.0': { noise: 6 } };
    const traffic = await model('watched', profiles);
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'watched',
        challenger: '7.1.0',
        policy: {
          ...FAST,
          approval: { required: false },
          stages: [{ mode: 'canary', weight: 50, duration: '4s' }],
          watch: { duration: '30s', rollbackOnRelativeDegradation: 0.1 },
        },
        proposedBy: 'dana',
      });
      await waitFor(rolloutId, (s) => s.state === 'watching');
      // The traffic generator reads the profiles on every request: the new champion now fails often.
      profiles['7.1.0'] = { noise: 6, errorRate: 0.5 };
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('rolled_back');
      expect(final.decision).toMatch(/breach during watch/);
      expect(await getRouting(db.knex, 'watched')).toMatchObject({ champion: '7.0.0', mode: 'off' });
      expect((await getVersion(db.knex, 'watched', '7.0.0')).status).toBe('champion');
      // A breach the analysis found is a failure: the demoted version is rejected (an abort would archive it).
      expect((await getVersion(db.knex, 'watched', '7.1.0')).status).toBe('rejected');
    } finally {
      await traffic.stop();
    }
  });

  it('`arena rollback` during the watch restores the previous champion and ends the rollout aborted', async () => {
    const traffic = await model('regretted', { '10.0.0': { noise: 10 }, '10.1.0': { noise: 6 } });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'regretted',
        challenger: '10.1.0',
        policy: {
          ...FAST,
          approval: { required: false },
          stages: [{ mode: 'canary', weight: 50, duration: '4s' }],
          watch: { duration: '120s', rollbackOnRelativeDegradation: 0.5 },
        },
        proposedBy: 'dana',
      });
      await waitFor(rolloutId, (s) => s.state === 'watching');
      expect((await getRouting(db.knex, 'regretted')).champion).toBe('10.1.0');
      // The challenger is already champion: the abort (which `arena rollback` sends) restores the previous one.
      const env = { DATABASE_URL: db.url, TEMPORAL_ADDRESS: inject('stack').temporalAddress };
      const r = await runCli(
        ['rollback', 'regretted', '--by', 'ops', '--reason', 'complaints after promotion', '--json'],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ rolloutId });
      const final = await arena.result(rolloutId);
      expect(final.state).toBe('aborted');
      expect(final.decision).toBe('aborted by ops: complaints after promotion');
      expect(final.events.map((e) => e.to).slice(-3)).toEqual(['watching', 'rolling_back', 'aborted']);
      expect(await getRouting(db.knex, 'regretted')).toMatchObject({
        champion: '10.0.0',
        challenger: null,
        mode: 'off',
      });
      expect((await getVersion(db.knex, 'regretted', '10.0.0')).status).toBe('champion');
      expect((await getVersion(db.knex, 'regretted', '10.1.0')).status).toBe('archived');
      await replayAndMaybeRecord(rolloutId, 'rollout-watch-aborted');
    } finally {
      await traffic.stop();
    }
  });

  it('pauses on a sample-ratio mismatch and marks the data invalid', async () => {
    await registerVersion(db.knex, { model: 'skewed', version: '8.0.0', actor: 'setup' });
    await registerVersion(db.knex, { model: 'skewed', version: '8.1.0', actor: 'setup' });
    await setChampion(db.knex, { model: 'skewed', version: '8.0.0', actor: 'setup' });
    // The challenger's server "forgets" to report 40 % of its predictions: a 50/50 split looks like 37/63.
    const traffic = await startTraffic({
      databaseUrl: db.url,
      model: 'skewed',
      profiles: { '8.0.0': { noise: 10 }, '8.1.0': { noise: 7 } },
      ratePerSecond: 300,
      unreportedShare: { '8.1.0': 0.4 },
    });
    try {
      const { rolloutId } = await arena.startRollout({
        model: 'skewed',
        challenger: '8.1.0',
        policy: {
          ...FAST,
          approval: { required: false },
          stages: [{ mode: 'canary', weight: 50, duration: '60s' }],
        },
        proposedBy: 'dana',
      });
      const paused = await waitFor(rolloutId, (s) => s.paused);
      expect(paused.lastAnalysis?.decision).toBe('invalid');
      expect(paused.lastAnalysis?.summary).toMatch(/sample-ratio mismatch/);
      // The workflow shows itself paused as it decides; the alert's activity completes a moment later.
      const alert = await eventually('the srm_detected alert', async () =>
        db.knex('alerts').where({ rollout_id: rolloutId, type: 'srm_detected' }).first(),
      );
      expect(alert).toMatchObject({ severity: 'critical' });
      // Invalid data never promotes: the rollout stays put until a person acts.
      await arena.abort(rolloutId, { by: 'ops', reason: 'fix the logging first' });
      expect((await arena.result(rolloutId)).state).toBe('aborted');
    } finally {
      await traffic.stop();
    }
  });

  it('leaves an intact audit chain', async () => {
    expect(await verifyAuditChain(db.knex)).toMatchObject({ ok: true });
  });
});
