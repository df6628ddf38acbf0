import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { DEFAULT_POLICY } from '../../../src/policy/policy.js';
import { prepareRollout } from '../../../src/rollout/prepare.js';

/** The policy is checked before anything is read: a database that is touched fails the test. */
const untouchable = new Proxy(() => undefined, {
  apply() {
    throw new Error('the database was read before the policy was validated');
  },
  get() {
    throw new Error('the database was read before the policy was validated');
  },
}) as unknown as Knex;

describe('prepareRollout', () => {
  it('validates a policy that looks parsed already (array of primary metrics), as an experiment may send', async () => {
    const policy = {
      ...DEFAULT_POLICY,
      stages: [{ mode: 'canary', weight: 250, duration: 60_000 }],
    };
    const start = prepareRollout(untouchable, 'default', {
      model: 'm',
      challenger: '1.1.0',
      proposedBy: 'dana',
      policy: policy as never,
    });
    await expect(start).rejects.toBeInstanceOf(InvalidInputError);
    await expect(start).rejects.toMatchObject({ field: 'policy.stages.0.weight' });
  });
});
