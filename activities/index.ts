import type { ActivityDeps } from './deps.js';
import { routingActivities } from './routing.js';
import { stackCheckActivities } from './stack-check.js';

export type { ActivityDeps } from './deps.js';

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...stackCheckActivities(deps),
    ...routingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
