import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * Arena's own version from its package.json. Found by walking up from this file rather than by a fixed
 * relative path, because the file runs from `src/` under tsx and from `dist/src/` once built.
 */
export function arenaVersion(): string {
  if (cached) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'arena' && pkg.version) return (cached = pkg.version);
    }
    if (dirname(dir) === dir)
      throw new Error(`Arena's package.json not found above ${fileURLToPath(import.meta.url)}`);
  }
}
