import type { ActivityDeps } from './deps.js';
import { stackCheckActivities } from './stack-check.js';

export type { ActivityDeps } from './deps.js';

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...stackCheckActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
