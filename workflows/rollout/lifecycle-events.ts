import type { AlertInput } from '../../activities/rollout-records.js';
import type { Policy } from '../../src/policy/policy.js';
import type { AnalysisVerdict, RolloutInput, RolloutState } from '../../src/rollout/types.js';

/** What of a rollout its notifications read (a Rollout, without importing state.ts back). */
interface RolloutSeen {
  input: RolloutInput;
  policy: Policy;
  memory: {
    previousChampion: string;
    decision: string | null;
    lastAnalysis: AnalysisVerdict | null;
    partialAdoption?: { key: string; exclude: string[] } | undefined;
    promotionFigures?: Record<string, string | number> | undefined;
  };
}

/** The gate's figures as people read them in a notification (src/notify/payload.ts figuresOf). */
export function verdictFigures(v: AnalysisVerdict | null | undefined): Record<string, string | number> {
  if (!v) return {};
  const p = v.primary;
  return {
    decision: v.decision,
    ...(p
      ? {
          [p.metric]: `${p.estimate.toPrecision(3)} [${p.ci[0].toPrecision(3)}, ${p.ci[1].toPrecision(3)}]`,
          'p-value': Number(p.pValue.toPrecision(3)),
        }
      : {}),
    'samples (champion / challenger)': `${v.samples.champion} / ${v.samples.challenger}`,
  };
}

/**
 * The transitions a person cares about that raise no alert of their own: a rollout waiting for approval,
 * and one promoted for good. (Rollbacks, expiry and SRM pauses already raise theirs.)
 */
export function lifecycleEvent(
  rollout: RolloutSeen,
  to: RolloutState,
): Omit<AlertInput, 'tenantId' | 'model' | 'rolloutId'> | null {
  const { input, memory: m, policy } = rollout;
  // A retrained candidate's wait is announced by its retrain workflow (promotion_pending, with the evidence
  // that triggered it): one page per wait, not two.
  if (to === 'awaiting_approval' && !input.proposedBy.startsWith('retrain:'))
    return {
      type: 'approval_requested',
      severity: 'warning',
      title: `${input.model} ${input.challenger}: proposed by ${input.proposedBy}; waiting for ${policy.approval.minApprovals} approval(s)`,
      details: {
        figures: {
          champion: m.previousChampion || '(none)',
          challenger: input.challenger,
          'proposed by': input.proposedBy,
          'expires in': `${Math.round(policy.approval.timeout / 60_000)} min`,
        },
      },
      dedupeKey: `${input.rolloutId}:approval_requested`,
    };
  if (to === 'promoted')
    return {
      type: 'rollout_promoted',
      severity: 'info',
      title: `${input.model} ${input.challenger} promoted (was ${m.previousChampion || 'none'}); the watch passed`,
      details: {
        decision: m.decision,
        partialAdoption: m.partialAdoption ?? null,
        figures: m.promotionFigures ?? verdictFigures(m.lastAnalysis),
      },
      dedupeKey: `${input.rolloutId}:promoted`,
    };
  return null;
}
