import { describe, expect, it } from 'vitest';
import { parsePolicy, type PolicyInput } from '../../../src/policy/policy.js';
import type { RolloutState } from '../../../src/rollout/types.js';
import { validators } from '../../../workflows/rollout/handlers.js';
import { Rollout, type RolloutMemory } from '../../../workflows/rollout/state.js';

/** A rollout as its workflow would hold it, at the given point of its life (no Temporal needed). */
function rolloutAt(
  phase: RolloutMemory['phase'],
  state: RolloutState,
  memory: Partial<RolloutMemory> = {},
  policy: PolicyInput = {},
): Rollout {
  const r = new Rollout({
    rolloutId: 'r1',
    tenantId: 'default',
    model: 'm',
    champion: '1.0.0',
    challenger: '1.1.0',
    policy: parsePolicy(policy),
    proposedBy: 'dana',
  });
  Object.assign(r.memory, { phase, state, ...memory });
  return r;
}

const refusalOf = (f: () => void): string => {
  try {
    f();
  } catch (err) {
    return (err as Error).message;
  }
  return 'accepted';
};

describe('rollout action validators', () => {
  it('accept an abort during the watch (what `arena rollback` sends), with a reason', () => {
    const watching = rolloutAt('watching', 'watching');
    expect(refusalOf(() => validators.abort(watching, { by: 'ops', reason: 'complaints' }))).toBe('accepted');
    expect(refusalOf(() => validators.abort(watching, { by: 'ops' }))).toBe('a reason is required to abort');
  });

  it('refuse an abort during the watch of a run whose history predates it, pointing at the champion command', () => {
    const old = rolloutAt('watching', 'watching');
    old.watchHonoursAbort = false;
    expect(refusalOf(() => validators.abort(old, { by: 'ops', reason: 'complaints' }))).toBe(
      'rollout r1 started before aborts during the watch were possible; restore the previous champion with `arena model champion m 1.0.0`',
    );
    old.watchHonoursAbort = true;
    expect(refusalOf(() => validators.abort(old, { by: 'ops', reason: 'complaints' }))).toBe('accepted');
  });

  it('refuse an abort once the rollout is rolling back or over', () => {
    expect(
      refusalOf(() => validators.abort(rolloutAt('watching', 'rolling_back'), { by: 'ops', reason: 'x' })),
    ).toBe('rollout r1 is already rolling_back');
    expect(refusalOf(() => validators.abort(rolloutAt('done', 'promoted'), { by: 'ops', reason: 'x' }))).toBe(
      'rollout r1 is already promoted',
    );
  });

  it('refuse each action outside the states it is accepted in, with the reason', () => {
    const approving = rolloutAt('approval', 'awaiting_approval');
    expect(refusalOf(() => validators.pause(approving, { by: 'ops' }))).toBe(
      'cannot pause a rollout that is awaiting_approval',
    );
    expect(refusalOf(() => validators.promoteNow(approving, { by: 'ops' }))).toBe(
      'cannot promote a rollout that is awaiting_approval',
    );
    expect(refusalOf(() => validators.resume(approving, { by: 'ops' }))).toBe('not paused');
    const canary = rolloutAt('stages', 'canary');
    expect(refusalOf(() => validators.approve(canary, { by: 'erin' }))).toBe(
      'rollout r1 is canary; nothing awaits approval',
    );
    expect(refusalOf(() => validators.reject(canary, { by: 'erin' }))).toBe(
      'rollout r1 is canary; nothing awaits approval to reject',
    );
    expect(
      refusalOf(() => validators.pause(rolloutAt('stages', 'canary', { paused: true }), { by: 'o' })),
    ).toBe('already paused');
    expect(refusalOf(() => validators.pause(canary, { by: ' ' }))).toBe(
      '`by` (who is acting) is required: " "',
    );
  });

  it('hold approvals to the approvers, separation of duties and one approval each', () => {
    const r = rolloutAt('approval', 'awaiting_approval', {}, { approval: { approvers: ['boss', 'dana'] } });
    expect(refusalOf(() => validators.approve(r, { by: 'erin' }))).toMatch(/erin is not an approver/);
    expect(refusalOf(() => validators.approve(r, { by: 'dana' }))).toMatch(/separation of duties/);
    expect(refusalOf(() => validators.approve(r, { by: 'boss' }))).toBe('accepted');
    r.memory.approvals.push({ by: 'boss', at: new Date(0).toISOString() });
    expect(refusalOf(() => validators.approve(r, { by: 'boss' }))).toBe('boss has already approved');
  });
});
