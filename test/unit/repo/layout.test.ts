import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// madge ships no types; its default export takes paths and options and resolves to a result with circular().
// @ts-expect-error -- no declaration file
import madge from 'madge';
import { describe, expect, it } from 'vitest';

/**
 * The architecture's own rules (docs/architecture.md), checked so they stay true: no import circle among
 * the library, the workflows and the activities (type imports count too: a circle closed by a type import
 * still means two modules that cannot be understood one without the other), and no file large enough to
 * hide several concepts.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const LAYERS = ['src', 'activities', 'workflows'];
const MAX_LINES = 400;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.ts$/.test(name) ? [full] : [];
  });
}

describe('the layout keeps its rules', () => {
  it('has no import circle', { timeout: 120_000 }, async () => {
    const result = (await madge(
      LAYERS.map((d) => path.join(root, d)),
      { fileExtensions: ['ts'], tsConfig: path.join(root, 'tsconfig.json'), baseDir: root },
    )) as { circular(): string[][]; obj(): Record<string, string[]> };
    // A resolver that found nothing would also report no circle.
    expect(Object.keys(result.obj()).length).toBeGreaterThan(100);
    expect(result.circular()).toEqual([]);
  });

  it(`has no file over ${MAX_LINES} lines`, () => {
    const files = LAYERS.flatMap((d) => sources(path.join(root, d)));
    expect(files.length).toBeGreaterThan(100);
    const long = files
      .map((f) => ({ file: path.relative(root, f), lines: readFileSync(f, 'utf8').split('\n').length }))
      .filter((f) => f.lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
