/**
 * Traffic weights are basis points (1/100 of a percent) everywhere inside Arena: the routing table, the
 * rollout status, the bucket comparison. People write and read percentages (policies, the CLI, reports),
 * so these two functions are the only places a weight changes unit. Pure: workflow code uses them too.
 */

/** A percentage as basis points, rounded to the nearest: 12.5 → 1250. */
export function basisPoints(percent: number): number {
  return Math.round(percent * 100);
}

/** Basis points as a percentage for display: 1250 → 12.5. */
export function percentOf(weightBp: number): number {
  return weightBp / 100;
}
