import { setChampion, setVersionStatus } from '../src/registry/registry.js';
import type { VersionStatus } from '../src/registry/status.js';
import { changeRouting, getRouting, type RoutingChange } from '../src/routing/store.js';
import { pinSegments, type PinSegmentsInput } from '../src/routing/segment-pins.js';
import type { RoutingEntry } from '../src/routing/table.js';
import type { ActivityDeps } from './deps.js';
import { nonRetryableOnBadData } from './failures.js';

export interface SetRoutingInput {
  model: string;
  change: RoutingChange;
  actor: string;
  reason?: string;
  /** Stable across retries of this activity (e.g. `${rolloutId}:stage:${n}`), so the change applies once. */
  idempotencyKey: string;
}

/** Routing and registry side effects for workflows; each write is idempotent through its key. */
export function routingActivities({ knex }: ActivityDeps) {
  return {
    async getRouting(model: string): Promise<RoutingEntry> {
      return nonRetryableOnBadData(() => getRouting(knex, model));
    },

    async setRouting(input: SetRoutingInput): Promise<RoutingEntry> {
      return nonRetryableOnBadData(() =>
        changeRouting(knex, {
          model: input.model,
          change: input.change,
          actor: input.actor,
          idempotencyKey: input.idempotencyKey,
          ...(input.reason ? { reason: input.reason } : {}),
        }),
      );
    },

    /** A partial adoption: the worse segments stay on the previous champion (src/routing/segment-pins.ts). */
    async pinSegments(input: PinSegmentsInput): Promise<RoutingEntry> {
      return nonRetryableOnBadData(() => pinSegments(knex, input));
    },

    async promoteChampion(input: {
      model: string;
      version: string;
      actor: string;
      reason?: string;
      idempotencyKey: string;
    }): Promise<RoutingEntry> {
      return nonRetryableOnBadData(() => setChampion(knex, input));
    },

    async setVersionStatus(input: {
      model: string;
      version: string;
      to: VersionStatus;
      actor: string;
      reason?: string;
    }): Promise<VersionStatus> {
      // Re-applying the same target status is a no-op in setVersionStatus, which makes a retry safe.
      return nonRetryableOnBadData(() =>
        knex.transaction(async (trx) => (await setVersionStatus(trx, input)).status),
      );
    },
  };
}
