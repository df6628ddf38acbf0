import type { GateResult } from '../stats/gate.js';

/** One line a person can act on: what failed, or what passed, or why it is still open. */
export function summarise(gate: GateResult): string {
  const failing = [...gate.metrics, ...gate.guardrails]
    .filter((v) => v.status === 'fail')
    .map((v) => v.reason);
  if (gate.decision === 'fail' && failing.length) return failing.join(' ');
  if (gate.decision === 'invalid' && gate.srm) return gate.srm.reason;
  if (gate.decision === 'pass') return gate.metrics.map((m) => m.reason).join(' ');
  const open = gate.metrics.filter((m) => m.status !== 'pass').map((m) => m.reason);
  return open.join(' ') || gate.reasons[0] || gate.decision;
}
