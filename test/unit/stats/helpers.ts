import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** The SciPy reference vectors, kept in the repository (test/fixtures/stats-vectors.md says where from). */
export function loadVectors(): Record<string, unknown> {
  const url = new URL('../../fixtures/stats-vectors.json', import.meta.url);
  if (!existsSync(url))
    throw new Error(
      `SciPy reference vectors not found at ${fileURLToPath(url)}: restore it with git checkout`,
    );
  return JSON.parse(readFileSync(url, 'utf8')) as Record<string, unknown>;
}

export function relativeError(actual: number, expected: number): number {
  if (expected === 0) return Math.abs(actual);
  return Math.abs(actual - expected) / Math.abs(expected);
}

/** Relative error ≤ tol (absolute when the expected value is 0). */
export function expectClose(actual: number, expected: number, tol: number, label: string): void {
  expect(Number.isFinite(actual), `${label}: ${actual} is not finite`).toBe(true);
  const err = relativeError(actual, expected);
  expect(err, `${label}: got ${actual}, expected ${expected} (relative error ${err})`).toBeLessThanOrEqual(
    tol,
  );
}

/** Statistics and p-values: 1e-6 (README of the reference vectors). */
export const STAT_TOL = 1e-6;
/** Distribution functions away from the far tails: 1e-9. */
export const DIST_TOL = 1e-9;
