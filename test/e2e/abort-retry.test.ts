import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getVersion, registerVersion, setChampion } from '../../src/registry/registry.js';
import { getRouting } from '../../src/routing/store.js';
import type { RolloutStatus } from '../../src/rollout/types.js';
import { startTraffic, type VersionProfile } from '../../src/simulate/traffic.js';
import { QUICK_PROMOTING_POLICY } from '../support/quick-policy.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const POLICY = QUICK_PROMOTING_POLICY;

/**
 * Issue #21: an abort is not a rejection. `arena rollout abort` returns the traffic and leaves the version
 * retryable; `arena rollout retry` starts the same version again, linked to the aborted rollout; only an
 * abort with `--reject` (or a failed analysis, tested in rollout.test.ts) makes the version final.
 */
describe('abort, retry, reject on a real Temporal server', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack('abort_retry', 'retry');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function model(name: string, profiles: Record<string, VersionProfile>) {
    for (const v of Object.keys(profiles))
      await registerVersion(stack.db.knex, { model: name, version: v, actor: 'setup' });
    await setChampion(stack.db.knex, { model: name, version: Object.keys(profiles)[0]!, actor: 'setup' });
    return startTraffic({ databaseUrl: stack.db.url, model: name, profiles, ratePerSecond: 300 });
  }

  async function waitFor(
    rolloutId: string,
    predicate: (s: RolloutStatus) => boolean,
  ): Promise<RolloutStatus> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const s = await stack.arena.status(rolloutId);
      if (predicate(s)) return s;
      if (Date.now() > deadline) throw new Error(`timed out; last state ${s.state}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it('aborts, leaving the version retryable; the retry, linked to it, is promoted', async () => {
    const traffic = await model('again', { '1.0.0': { noise: 10 }, '1.1.0': { noise: 6 } });
    try {
      const { arena, db } = stack;
      const first = await arena.startRollout({
        model: 'again',
        challenger: '1.1.0',
        policy: POLICY,
        proposedBy: 'dana',
      });
      await waitFor(first.rolloutId, (s) => s.state === 'shadow');
      // Judged by the workflow's live state (the row trails it), which may already have left shadow.
      await expect(arena.retry(first.rolloutId, { by: 'dana' })).rejects.toThrow(
        /is (shadow|canary): only a rollout that ended without promoting can be retried/,
      );
      await arena.abort(first.rolloutId, { by: 'ops', reason: 'wrong week for it' });
      const aborted = await arena.result(first.rolloutId);
      expect(aborted.state).toBe('aborted');
      expect((await getVersion(db.knex, 'again', '1.1.0')).status).toBe('candidate');
      expect(await getRouting(db.knex, 'again')).toMatchObject({
        champion: '1.0.0',
        mode: 'off',
        shadow: [],
      });

      const retry = await arena.retry(first.rolloutId, { by: 'dana', reason: 'the week is better' });
      expect(retry.rolloutId).not.toBe(first.rolloutId);
      expect(
        await db.knex('rollouts').where({ id: retry.rolloutId }).first('retry_of', 'challenger'),
      ).toEqual({
        retry_of: first.rolloutId,
        challenger: '1.1.0',
      });
      const audit = await db.knex('audit_log').where({ action: 'rollout.retry', entity_id: retry.rolloutId });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        actor: 'dana',
        details: { retryOf: first.rolloutId, version: '1.1.0' },
      });

      const final = await arena.result(retry.rolloutId);
      expect(final.state, JSON.stringify(final.lastAnalysis?.reasons)).toBe('promoted');
      const promoted = await getVersion(db.knex, 'again', '1.1.0');
      expect(promoted.status).toBe('champion');
      expect(promoted.promotedAt).toBeInstanceOf(Date);
      await expect(arena.retry(retry.rolloutId, { by: 'dana' })).rejects.toThrow(/is promoted/);
    } finally {
      await traffic.stop();
    }
  });

  it('an abort with reject, or a withdrawal before approval, settles the version as asked', async () => {
    const traffic = await model('final', {
      '2.0.0': { noise: 10 },
      '2.1.0': { noise: 10 },
      '2.2.0': { noise: 10 },
    });
    try {
      const { arena, db } = stack;
      const rejected = await arena.startRollout({
        model: 'final',
        challenger: '2.1.0',
        policy: POLICY,
        proposedBy: 'dana',
      });
      await waitFor(rejected.rolloutId, (s) => s.state === 'shadow');
      await arena.abort(rejected.rolloutId, { by: 'ops', reason: 'leaks memory', reject: true });
      expect((await arena.result(rejected.rolloutId)).state).toBe('aborted');
      expect((await getVersion(db.knex, 'final', '2.1.0')).status).toBe('rejected');
      await expect(arena.retry(rejected.rolloutId, { by: 'dana' })).rejects.toThrow(/was rejected/);

      // Withdrawn while it waits for approval: the rollout ends aborted and the version can be proposed again.
      const withdrawn = await arena.startRollout({
        model: 'final',
        challenger: '2.2.0',
        policy: { ...POLICY, approval: { required: true, timeout: '60s' } },
        proposedBy: 'dana',
      });
      await waitFor(withdrawn.rolloutId, (s) => s.state === 'awaiting_approval');
      await arena.abort(withdrawn.rolloutId, { by: 'dana', reason: 'proposed too early' });
      expect((await arena.result(withdrawn.rolloutId)).state).toBe('aborted');
      expect((await getVersion(db.knex, 'final', '2.2.0')).status).toBe('candidate');
    } finally {
      await traffic.stop();
    }
  });
});
