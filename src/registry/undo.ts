import type { Knex } from 'knex';
import { appendAudit } from '../db/audit.js';
import { InvalidInputError, RegistryError, UserFacingError } from '../errors.js';
import { activeRolloutOfModel } from '../rollout/store.js';
import { championBefore, getRouting } from '../routing/store.js';
import type { RoutingEntry } from '../routing/table.js';
import { setChampion } from './registry.js';
import { parseVersion } from './version.js';

export interface UndoChampionInput {
  tenantId?: string;
  model: string;
  /** The version to restore; default: the champion before the current one (routing history). */
  to?: string;
  actor: string;
  reason: string;
}

/**
 * `arena model undo MODEL [--to VERSION]`: an earlier champion serves again, in one step. The current
 * champion is archived (so it can be rolled out again), the restored one becomes champion, and the audit
 * log records the undo with both versions. Refused while a rollout of the model runs: its abort (`arena
 * rollback`) is how to undo a promotion still being watched, and a second writer of the routing would race
 * the workflow.
 */
export async function undoChampion(
  knex: Knex,
  input: UndoChampionInput,
): Promise<{ from: string; to: string; routing: RoutingEntry }> {
  const tenantId = input.tenantId ?? 'default';
  if (!input.reason.trim()) throw new InvalidInputError('reason', input.reason, 'an undo needs a reason');
  const active = await activeRolloutOfModel(knex, tenantId, input.model);
  if (active)
    throw new UserFacingError(
      `A rollout of ${input.model} is active (${active.id}): undo would race it`,
      `Abort it instead, which restores the previous champion: arena rollout abort ${active.id} --by WHO --reason TEXT`,
      { code: 'conflict' },
    );
  const routing = await getRouting(knex, input.model, tenantId);
  const from = routing.champion;
  if (!from)
    throw new RegistryError(
      'no_champion',
      `Model ${input.model} has no champion to undo`,
      `Set one: arena model champion ${input.model} VERSION`,
    );
  const to = input.to
    ? parseVersion(input.to, 'to').version
    : await championBefore(knex, input.model, from, tenantId);
  if (!to)
    throw new UserFacingError(
      `${input.model} has had no champion before ${from}`,
      `Name the version to restore: arena model undo ${input.model} --to VERSION`,
      { code: 'not_found' },
    );
  if (to === from) throw new InvalidInputError('to', to, 'is already the champion');
  const key = `undo:${tenantId}:${input.model}:${from}->${to}:${routing.generation}`;
  // One transaction: the champion change and the undo's own audit entry land together or not at all.
  const after = await knex.transaction(async (trx) => {
    const changed = await setChampion(trx, {
      tenantId,
      model: input.model,
      version: to,
      actor: input.actor,
      reason: `undo: ${input.reason}`,
      idempotencyKey: key,
    });
    await appendAudit(trx, {
      tenantId,
      actor: input.actor,
      action: 'model.undo',
      entityType: 'model',
      entityId: input.model,
      details: { from, to, reason: input.reason, generation: changed.generation },
      idempotencyKey: `${key}:undo`,
    });
    return changed;
  });
  return { from, to, routing: after };
}
