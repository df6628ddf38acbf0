import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { parsePolicy, type Policy, type PolicyInput } from '../policy/policy.js';
import { InvalidInputError, RegistryError } from '../errors.js';
import { getVersion } from '../registry/registry.js';
import { parseVersion } from '../registry/version.js';
import { getRouting } from '../routing/store.js';
import { checkMetricSources } from './check-metric-sources.js';
import type { RolloutInput } from './types.js';

export interface StartRolloutInput {
  model: string;
  challenger: string;
  /** A parsed Policy or a raw object (durations as strings, weights in percent); validated either way. */
  policy?: Policy | PolicyInput;
  proposedBy: string;
  /** Continue-as-new past this many history events (default 4000). */
  historyLimit?: number;
  /**
   * A caller that must start the same rollout again after a crash (a retried activity, a retraining
   * workflow) passes its own stable id; otherwise a fresh one is made.
   */
  rolloutId?: string;
  /** The ended rollout this one retries (`arena rollout retry`): kept on the row, so history links them. */
  retryOf?: string;
}

/** The workflow id makes "at most one active rollout per model" a guarantee of Temporal itself. */
export function rolloutWorkflowId(tenantId: string, model: string, prefix = 'rollout'): string {
  return `${prefix}-${tenantId}-${model}`;
}

export interface PreparedRollout {
  args: RolloutInput;
  workflowId: string;
  /** Keyword search attributes to start the workflow with (the Web UI filters on them). */
  searchAttributes: { ArenaModel: string; ArenaVersion: string; ArenaState: string };
  summary: string;
}

/**
 * Everything checked before a rollout may start — a valid policy, a champion to compare with, a registered
 * challenger that is neither the champion nor rejected — and the workflow's input. Shared by the client
 * and by workflows that start rollouts (retraining, experiments) through an activity.
 */
export async function prepareRollout(
  knex: Knex,
  tenantId: string,
  input: StartRolloutInput,
  workflowIdPrefix?: string,
): Promise<PreparedRollout> {
  // Always through the schema, also a policy that looks parsed already (an experiment's or a retraining
  // configuration's): validation happens there and only there, and a parsed policy parses to itself.
  const policy = parsePolicy(input.policy ?? {});
  if (!input.proposedBy.trim())
    throw new InvalidInputError('by', input.proposedBy, 'who proposes the rollout is required');
  const challenger = parseVersion(input.challenger, 'challenger').version;
  const routing = await getRouting(knex, input.model, tenantId);
  if (!routing.champion) {
    throw new RegistryError(
      'no_champion',
      `Model ${input.model} has no champion to compare with`,
      `Set one first: arena model champion ${input.model} VERSION`,
    );
  }
  const version = await getVersion(knex, input.model, challenger, tenantId);
  if (version.version === routing.champion)
    throw new InvalidInputError('challenger', challenger, 'is already the champion');
  if (version.status === 'rejected')
    throw new InvalidInputError(
      'challenger',
      challenger,
      'was rejected (by a failed analysis, an approver, or an abort with --reject) and cannot be rolled out again; register a new version',
    );
  await checkMetricSources(policy, { model: input.model, champion: routing.champion });
  const rolloutId =
    input.rolloutId ??
    `${input.model}-${challenger.replace(/[^a-zA-Z0-9]/g, '_')}-${randomBytes(3).toString('hex')}`;
  return {
    args: {
      rolloutId,
      tenantId,
      model: input.model,
      champion: routing.champion,
      challenger,
      policy,
      proposedBy: input.proposedBy,
      ...(input.historyLimit ? { historyLimit: input.historyLimit } : {}),
      ...(input.retryOf ? { retryOf: input.retryOf } : {}),
    },
    workflowId: rolloutWorkflowId(tenantId, input.model, workflowIdPrefix),
    searchAttributes: { ArenaModel: input.model, ArenaVersion: challenger, ArenaState: 'proposed' },
    summary: `Rollout of ${input.model} ${routing.champion} → ${challenger}`,
  };
}
