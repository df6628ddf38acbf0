import type { Knex } from 'knex';
import { UnknownModelError } from '../errors.js';
import { changeRouting, lockRouting, toEntry } from './store.js';
import type { RoutingEntry, SegmentOverride } from './table.js';

export interface PinSegmentsInput {
  tenantId?: string;
  model: string;
  /** The routing segment key (the policy's `segments.key`) and the values to pin. */
  key: string;
  values: readonly string[];
  version: string;
  actor: string;
  reason?: string;
  idempotencyKey: string;
}

/**
 * A partial adoption's routing (DESIGN.md §11): requests whose segment `key` has one of `values` are served
 * by `version` whatever the champion. Pins of other keys and values are kept; a pin of the same key and
 * value is replaced. One transaction with the routing row locked, so a concurrent change cannot be lost.
 */
export async function pinSegments(knex: Knex, input: PinSegmentsInput): Promise<RoutingEntry> {
  const tenantId = input.tenantId ?? 'default';
  return knex.transaction(async (trx) => {
    const row = await lockRouting(trx, tenantId, input.model);
    if (!row) throw new UnknownModelError(input.model);
    const pinned = new Set(input.values);
    const kept = toEntry(row).segmentOverrides.filter((o) => !(o.key === input.key && pinned.has(o.value)));
    const added: SegmentOverride[] = [...pinned].map((value) => ({
      key: input.key,
      value,
      version: input.version,
    }));
    return changeRouting(
      knex,
      {
        tenantId,
        model: input.model,
        change: { segmentOverrides: [...kept, ...added] },
        actor: input.actor,
        idempotencyKey: input.idempotencyKey,
        ...(input.reason ? { reason: input.reason } : {}),
      },
      trx,
    );
  });
}
