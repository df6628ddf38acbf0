/** Adjusted p-values for families of tests (guardrails that may each trigger a rollback, many metrics). */
import { StatsInputError } from './errors.js';

function check(p: readonly number[]): void {
  if (!Array.isArray(p)) throw new StatsInputError('p', p, 'must be an array of p-values');
  p.forEach((v, i) => {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1))
      throw new StatsInputError(`p[${i}]`, v, 'must lie in [0, 1]');
  });
}

function order(p: readonly number[]): number[] {
  return p.map((_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
}

/** Holm's step-down adjustment (controls the family-wise error rate under any dependence). */
export function holm(p: readonly number[]): number[] {
  check(p);
  const m = p.length;
  const out = new Array<number>(m);
  let running = 0;
  order(p).forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p[idx]!));
    out[idx] = running;
  });
  return out;
}

/** Benjamini–Hochberg step-up adjustment (controls the false discovery rate). */
export function benjaminiHochberg(p: readonly number[]): number[] {
  check(p);
  const m = p.length;
  const out = new Array<number>(m);
  const idx = order(p);
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const i = idx[rank]!;
    running = Math.min(running, (m / (rank + 1)) * p[i]!);
    out[i] = running;
  }
  return out;
}
