/**
 * Mann-Whitney U with the normal approximation, tie correction and continuity correction
 * (scipy.stats.mannwhitneyu(method='asymptotic', use_continuity=True)). Used where the metric is heavily
 * skewed and a difference in location, not in means, is the question.
 */
import { InsufficientDataError, requireFiniteArray } from './errors.js';
import { normalTails } from './normal.js';
import type { Alternative } from './welch.js';

export interface MannWhitneyResult {
  /** U of `a`: the number of pairs (x from a, y from b) with x > y, ties counting ½. */
  u: number;
  pValue: number;
  z: number;
}

/**
 * Every value tied (no spread at all) gives u = n₁n₂/2 and p = 1, as SciPy does. Empty arrays are an
 * InsufficientDataError; non-finite values a StatsInputError naming the index.
 */
export function mannWhitneyU(
  a: readonly number[],
  b: readonly number[],
  options: { alternative?: Alternative } = {},
): MannWhitneyResult {
  requireFiniteArray('a', a);
  requireFiniteArray('b', b);
  if (a.length < 1) throw new InsufficientDataError('a.length', a.length, 1);
  if (b.length < 1) throw new InsufficientDataError('b.length', b.length, 1);
  const alternative = options.alternative ?? 'two-sided';
  const n1 = a.length;
  const n2 = b.length;
  const n = n1 + n2;
  const all: Array<[number, boolean]> = [];
  for (const v of a) all.push([v, true]);
  for (const v of b) all.push([v, false]);
  all.sort((p, q) => p[0] - q[0]);

  // Midranks; R1 is the rank sum of a, tieTerm Σ(t³ − t) over tie groups.
  let r1 = 0;
  let tieTerm = 0;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && all[j]![0] === all[i]![0]) j++;
    const rank = (i + 1 + j) / 2;
    const t = j - i;
    if (t > 1) tieTerm += t * t * t - t;
    for (let k = i; k < j; k++) if (all[k]![1]) r1 += rank;
    i = j;
  }
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const mu = (n1 * n2) / 2;
  const s = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const u = alternative === 'greater' ? u1 : alternative === 'less' ? u2 : Math.max(u1, u2);
  const numerator = u - mu - 0.5;
  // s = 0 only when every value is tied; the numerator is then −½, i.e. z = −∞ and p = 1.
  const z = s === 0 ? -Infinity : numerator / s;
  const sf = normalTails(z).upper;
  const pValue = Math.min(1, alternative === 'two-sided' ? 2 * sf : sf);
  return { u: u1, pValue, z };
}
