import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * A clone anywhere must pass `npm test` with nothing beside it (issue 16: the stats tests once read
 * the development machines' reference directory beside the checkout). Every file path the code builds
 * relative to its own module stays inside the repository, and nothing names that directory.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') return [];
    if (statSync(full).isDirectory()) return sources(full);
    return /\.(ts|js)$/.test(name) ? [full] : [];
  });
}

describe('the repository is self-contained', () => {
  const files = ['src', 'test', 'examples', 'bench', 'workflows', 'activities'].flatMap((d) =>
    sources(path.join(root, d)),
  );

  it('resolves every module-relative URL inside the repository', () => {
    expect(files.length).toBeGreaterThan(50);
    const outside: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new URL\('([^']+)', import\.meta\.url\)/g)) {
        const target = path.resolve(path.dirname(file), m[1]!);
        if (path.relative(root, target).startsWith('..'))
          outside.push(`${path.relative(root, file)}: ${m[1]}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('names no directory beside the repository', () => {
    // Built from parts so that this file does not itself contain the path it looks for.
    const beside = ['..', 'shared', ''].join('/');
    const outsideDirectory = new RegExp(
      `${['shared', 'reference'].join('/')}|${beside.replaceAll('.', '\\.')}`,
    );
    const self = fileURLToPath(import.meta.url);
    const offenders = files.filter((f) => f !== self && outsideDirectory.test(readFileSync(f, 'utf8')));
    expect(offenders.map((f) => path.relative(root, f))).toEqual([]);
  });
});
