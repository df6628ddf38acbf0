import fc from 'fast-check';
import { ApplicationFailure } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../src/policy/policy.js';
import { parseActionInput, ROLLOUT_ACTIONS, shown } from '../../../src/rollout/action-input.js';
import { validators } from '../../../workflows/rollout/handlers.js';
import { Rollout } from '../../../workflows/rollout/state.js';
import { unstorableText } from '../../../src/validation/storable-text.js';

const awaiting = (): Rollout => {
  const r = new Rollout({
    rolloutId: 'r1',
    tenantId: 'default',
    model: 'm',
    champion: '1.0.0',
    challenger: '1.1.0',
    policy: parsePolicy({}),
    proposedBy: 'dana',
  });
  Object.assign(r.memory, { phase: 'approval', state: 'awaiting_approval' });
  return r;
};

const problem = (action: (typeof ROLLOUT_ACTIONS)[number], payload: unknown): string => {
  const r = parseActionInput(action, payload);
  return r.ok ? 'ok' : r.problem;
};

describe('action payloads (Updates and Signals alike)', () => {
  it('name the field and the value of what is wrong', () => {
    expect(problem('approve', { by: 'carol', comment: 'fine' })).toBe('ok');
    expect(problem('approve', { by: 'carol', roles: ['approver'] })).toBe('ok');
    expect(problem('approve', {})).toBe('`by` (who is acting) is required');
    expect(problem('approve', { by: 42 })).toBe('`by` must be text, got 42');
    expect(problem('approve', { by: 'carol', coment: 'typo' })).toBe(
      'unknown field "coment" (approve takes by, comment, roles)',
    );
    expect(problem('pause', { by: 'carol', comment: 'x' })).toBe(
      'unknown field "comment" (pause takes by, reason)',
    );
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field${i}${'x'.repeat(80)}`, i]));
    expect(problem('approve', { by: 'carol', ...many })).toMatch(
      /^unknown fields ("[^,]{59}…, ){5}35 more \(approve takes by, comment, roles\)$/,
    );
    expect(problem('abort', { by: 'carol', reason: ['x'] })).toBe('`reason` must be text, got ["x"]');
    expect(problem('approve', 'carol')).toBe(
      'the payload must be one JSON object such as {"by":"carol","comment":"offline metrics look good"}, got "carol"',
    );
    expect(problem('resume', undefined)).toMatch(/must be one JSON object .*, got no payload$/);
    expect(problem('approve', { by: 'x'.repeat(201) })).toBe('`by` is longer than 200 characters');
    expect(problem('approve', { by: 'c', roles: Array(51).fill('r') })).toBe(
      '`roles` has more than 50 items',
    );
    expect(problem('approve', { by: 'a\u0000b' })).toBe(
      '`by` contains a NUL character (\\u0000), which PostgreSQL cannot store: "a\\u0000b"',
    );
    expect(problem('approve', { by: '\uD800x' })).toMatch(/lone UTF-16 surrogate.*"\\ud800x"$/);
  });

  it('refuse any payload that is not a well-formed object, with storable, bounded text; never throw otherwise', () => {
    const payload = fc.oneof(
      fc.anything(),
      fc.record(
        {
          by: fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()),
          comment: fc.oneof(fc.string(), fc.anything()),
          reason: fc.oneof(fc.string({ maxLength: 3000 }), fc.anything()),
          roles: fc.oneof(fc.array(fc.string()), fc.anything()),
          extra: fc.anything(),
        },
        { requiredKeys: [] },
      ),
    );
    fc.assert(
      fc.property(fc.constantFrom(...ROLLOUT_ACTIONS), payload, (action, p) => {
        const r = parseActionInput(action, p);
        if (r.ok) {
          // Only a plain object with a storable, non-blank `by` and this action's known fields is accepted.
          const o = p as Record<string, unknown>;
          expect(typeof o.by).toBe('string');
          expect(unstorableText(o.by as string)).toBeUndefined();
          expect((o.by as string).trim()).not.toBe('');
          const allowed = action === 'approve' ? ['by', 'comment', 'roles'] : ['by', 'reason'];
          for (const k of Object.keys(o)) expect(allowed).toContain(k);
        } else {
          // The problem lands in events, audit rows and alert titles: storable and short, whatever was sent.
          expect(unstorableText(r.problem)).toBeUndefined();
          expect(r.problem.length).toBeLessThan(400);
        }
        // The validator applies the same rule and refuses only with RolloutActionRefused.
        try {
          validators[action](awaiting(), p as never);
        } catch (err) {
          expect(err).toBeInstanceOf(ApplicationFailure);
          expect((err as ApplicationFailure).type).toBe('RolloutActionRefused');
          if (!r.ok) expect((err as Error).message).toBe(r.problem);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('show any value as storable text cut to the limit, never splitting a surrogate pair', () => {
    fc.assert(
      fc.property(fc.anything(), fc.integer({ min: 1, max: 200 }), (v, max) => {
        const s = shown(v, max);
        expect(unstorableText(s)).toBeUndefined();
        expect(s.length).toBeLessThanOrEqual(max + 1);
      }),
    );
    expect(shown('😀'.repeat(10), 6)).toBe('"😀😀…');
  });
});
