import { independent } from './gate/evidence.js';
import { assessSegments } from './gate/segments.js';
import { createRng } from './random.js';

/**
 * A/A rollouts for the per-segment check (gate/segments.ts): both arms have the same accuracy in every
 * segment, segments differ in traffic and base rate, and the check runs at every look. Returns the share
 * of rollouts in which some segment was flagged worse at some look, with Holm across segments and without
 * (each segment at alpha on its own), the figure a per-segment gate must keep at alpha.
 */
export function simulateSegmentAa(opts: {
  rollouts: number;
  segments: number;
  looks: number;
  seed: number;
  /** Requests per look over all segments (default 4,000), split 50/50. */
  perLook?: number;
  alpha?: number;
}): { adjusted: number; unadjusted: number } {
  const rng = createRng(opts.seed);
  const alpha = opts.alpha ?? 0.05;
  const perLook = opts.perLook ?? 4000;
  // Traffic shares like airports' (a few large, many small), base rates between 0.6 and 0.95.
  const weights = Array.from({ length: opts.segments }, (_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const shares = weights.map((w) => w / total);
  const rates = shares.map((_, k) => 0.6 + (0.35 * k) / Math.max(1, opts.segments - 1));
  let adjusted = 0;
  let unadjusted = 0;
  for (let r = 0; r < opts.rollouts; r++) {
    const arms = shares.map(() => ({ champion: { successes: 0, n: 0 }, challenger: { successes: 0, n: 0 } }));
    let flagged = false;
    let flaggedRaw = false;
    for (let look = 0; look < opts.looks && !(flagged && flaggedRaw); look++) {
      shares.forEach((share, k) => {
        for (const arm of ['champion', 'challenger'] as const) {
          const n = Math.round((perLook * share) / 2);
          // Binomial by its normal approximation (n ≥ 25 here at the smallest share of 20 segments).
          const mean = n * rates[k]!;
          const sd = Math.sqrt(n * rates[k]! * (1 - rates[k]!));
          const x = Math.min(n, Math.max(0, Math.round(mean + sd * rng.normal())));
          arms[k]![arm].successes += x;
          arms[k]![arm].n += n;
        }
      });
      const verdicts = assessSegments(
        arms.map((a, k) => ({
          segment: String(k),
          evidence: independent({ ...a.champion }, { ...a.challenger }),
        })),
        { direction: 'higher', alpha, tuningN: 20_000, minSamples: 200 },
      );
      if (verdicts.some((v) => v.worse)) flagged = true;
      if (verdicts.some((v) => v.pValue !== null && v.pValue < alpha)) flaggedRaw = true;
    }
    if (flagged) adjusted++;
    if (flaggedRaw) unadjusted++;
  }
  return { adjusted: adjusted / opts.rollouts, unadjusted: unadjusted / opts.rollouts };
}
