import type { PolicyInput } from '../../src/policy/policy.js';

/**
 * Shadow, one canary and a short watch, in seconds: long enough to abort in, short enough to promote a
 * challenger whose error is clearly lower (noise 6 against 10 at 300 requests a second).
 */
export const QUICK_PROMOTING_POLICY: PolicyInput = {
  approval: { required: false },
  stages: [
    { mode: 'shadow', duration: '3s' },
    { mode: 'canary', weight: 50, duration: '3s' },
  ],
  analysis: { interval: '500ms', minSamples: 40, maxExtension: '6s', alpha: 0.05, tuningN: 500 },
  primaryMetric: { name: 'abs_error', direction: 'lower', minImprovement: 0.02 },
  guardrails: [{ metric: 'error', max: 0.05, rollbackAbove: 0.15 }],
  onInconclusive: 'rollback',
  watch: { duration: '1s' },
};
