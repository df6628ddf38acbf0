import { confidenceSequence, relativeLift, type Summary } from '../src/stats/index.js';

/**
 * Whether the gate's own statistic rejects "no difference" at this look: the relative lift and its
 * delta-method se, in the always-valid confidence sequence. The simulations count this beside the gate's
 * decisions, so it is written once for both.
 */
export function liftSequenceRejects(c: Summary, t: Summary, alpha: number, tuningN: number): boolean {
  const lift = relativeLift(c, t);
  return (
    confidenceSequence({ delta: lift.lift, se: lift.se, nTotal: c.n + t.n, alpha, tuningN }).pValue < alpha
  );
}
