import type { Knex } from 'knex';
import type { ArenaClient } from '../client/arena-client.js';
import { UserFacingError } from '../errors.js';
import { getAlert, moveAlert, type Alert } from './alert-store.js';

/** Alerts that ask a person to let a rollout go on. */
const APPROVABLE = new Set(['approval_requested', 'promotion_pending', 'approval_expiring']);

/**
 * Approving an alert acts on what it is about: it sends the rollout the Update the alert asks for — an
 * approval while the rollout awaits approval (at its start or before promotion), or promote-now when an
 * inconclusive result was handed to a person — with the approver's identity, and only then marks the alert
 * actioned. The rollout's own validator decides who may approve; its refusal is passed on unchanged.
 */
export async function approveAlert(
  knex: Knex,
  arena: ArenaClient,
  args: { id: number | string; by: string; comment?: string; roles?: string[]; tenantId?: string },
): Promise<{ alert: Alert; action: 'approve' | 'promoteNow'; rolloutId: string; state: string }> {
  const alert = await getAlert(knex, args.id, args.tenantId);
  if (alert.status === 'actioned' || alert.status === 'dismissed')
    throw new UserFacingError(
      `Alert ${alert.id} (${alert.type}) is already ${alert.status}`,
      'Nothing to approve.',
    );
  if (!APPROVABLE.has(alert.type) || !alert.rolloutId)
    throw new UserFacingError(
      `Alert ${alert.id} is ${alert.type}: nothing to approve`,
      `Only approval_requested, promotion_pending and approval_expiring alerts ask for an approval; dismiss it instead: arena alerts dismiss ${alert.id}`,
    );
  const status = await arena.status(alert.rolloutId);
  const waitsForDecision = status.state === 'deciding' && status.events.at(-1)?.type === 'decision_requested';
  let action: 'approve' | 'promoteNow';
  let after;
  const comment = args.comment ?? `approved through alert ${alert.id}`;
  if (status.state === 'awaiting_approval' || status.state === 'promoting') {
    action = 'approve';
    after = await arena.approve(alert.rolloutId, {
      by: args.by,
      comment,
      ...(args.roles ? { roles: args.roles } : {}),
    });
  } else if (waitsForDecision) {
    action = 'promoteNow';
    after = await arena.promoteNow(alert.rolloutId, { by: args.by, reason: comment });
  } else
    throw new UserFacingError(
      `Alert ${alert.id}: rollout ${alert.rolloutId} is ${status.state} and no longer waits for an approval`,
      `Dismiss the alert: arena alerts dismiss ${alert.id} --by ${args.by}`,
    );
  const moved = await moveAlert(knex, {
    id: alert.id,
    to: 'actioned',
    actor: args.by,
    reason: `${action} sent to ${alert.rolloutId}`,
    ...(args.tenantId ? { tenantId: args.tenantId } : {}),
  });
  return { alert: moved, action, rolloutId: alert.rolloutId, state: after.state };
}
