import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { ArenaClient } from '../client/arena-client.js';
import { ExperimentClient } from '../client/experiment-client.js';
import { HttpError } from './http-error.js';
import type { TokenGrant } from './tokens.js';

export interface PeopleOptions {
  knex: Knex;
  /** Rollout actions, starts and alert approvals need Temporal; without it they answer 503. */
  temporal?: { client: Client; taskQueue: string };
}

/** What the people-facing routes share: the database, and an Arena client scoped to the token's tenant. */
export interface PeopleContext extends PeopleOptions {
  /** The Temporal connection, or a 503 that says how to give the gateway one. */
  requireTemporal(): NonNullable<PeopleOptions['temporal']>;
  arenaFor(grant: TokenGrant): ArenaClient;
  experimentsFor(grant: TokenGrant): ExperimentClient;
}

export function createPeopleContext(o: PeopleOptions): PeopleContext {
  const temporal = (): NonNullable<PeopleOptions['temporal']> => {
    if (!o.temporal)
      throw new HttpError(
        503,
        'this gateway has no Temporal connection',
        'Start it with the Temporal endpoint configured (arena gateway).',
      );
    return o.temporal;
  };
  return {
    ...o,
    requireTemporal: temporal,
    arenaFor(grant) {
      const t = temporal();
      return new ArenaClient({
        temporal: t.client,
        knex: o.knex,
        taskQueue: t.taskQueue,
        tenantId: grant.tenantId,
      });
    },
    experimentsFor(grant) {
      const t = temporal();
      return new ExperimentClient({
        temporal: t.client,
        knex: o.knex,
        taskQueue: t.taskQueue,
        tenantId: grant.tenantId,
      });
    },
  };
}
