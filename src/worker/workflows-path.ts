import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The worker bundles workflow code from source. Under tsx/vitest this module is src/worker/*.ts and the
 * workflows are .ts; in the compiled image both are .js under dist/.
 */
export function workflowsPath(): string {
  for (const ext of ['ts', 'js']) {
    const candidate = fileURLToPath(new URL(`../../workflows/index.${ext}`, import.meta.url));
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('workflows/index.(ts|js) not found next to the worker');
}
