/**
 * Two-sample Kolmogorov–Smirnov test (drift of a feature or score distribution). The p-value is the
 * Kolmogorov limiting distribution at √(nm/(n+m))·D — SciPy's `kstwobign.sf` — which is what the reference
 * vectors fix; for very small samples it is slightly conservative compared with the exact distribution.
 */
import { InsufficientDataError, requireFiniteArray } from './errors.js';

export interface KsResult {
  /** sup |F_a − F_b|. */
  d: number;
  pValue: number;
}

export function ksTwoSample(a: readonly number[], b: readonly number[]): KsResult {
  requireFiniteArray('a', a);
  requireFiniteArray('b', b);
  if (a.length < 1) throw new InsufficientDataError('a.length', a.length, 1);
  if (b.length < 1) throw new InsufficientDataError('b.length', b.length, 1);
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  const n = x.length;
  const m = y.length;
  let i = 0;
  let j = 0;
  let d = 0;
  // Step both empirical CDFs past every copy of the next value before comparing, so ties count correctly.
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < n && x[i] === v) i++;
    while (j < m && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  const en = Math.sqrt((n * m) / (n + m));
  return { d, pValue: kolmogorovSf(en * d) };
}

/** P(K > x) for the Kolmogorov distribution K = sup|B(t)| of a Brownian bridge. */
export function kolmogorovSf(x: number): number {
  if (!(x > 0)) return 1;
  if (x < 1) {
    // Jacobi-theta form of the CDF converges fast for small x, where the alternating series does not.
    const w = (Math.PI * Math.PI) / (8 * x * x);
    let sum = 0;
    for (let k = 1; k < 100; k += 2) {
      const term = Math.exp(-k * k * w);
      sum += term;
      if (term < 1e-17 * sum) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / x) * sum;
  }
  let sum = 0;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * x * x);
    sum += k % 2 === 1 ? term : -term;
    if (term < 1e-17 * Math.abs(sum)) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
