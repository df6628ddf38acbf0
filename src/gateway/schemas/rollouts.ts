import { z } from 'zod';
import { ROLLOUT_STATES } from '../../rollout/types.js';

const state = z.enum(ROLLOUT_STATES);

export const analysisSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    stageIndex: z.number().int(),
    mode: z.enum(['shadow', 'canary', 'watch', 'final']),
    decision: z.string().describe('pass, fail, inconclusive, waiting or invalid.'),
    action: z.string(),
    reasons: z.array(z.string()),
    summary: z.string(),
    samples: z.object({ champion: z.number(), challenger: z.number() }),
    primary: z
      .object({ metric: z.string(), estimate: z.number(), ci: z.array(z.number()), pValue: z.number() })
      .optional(),
    details: z.unknown().optional().describe('The gate’s full output, per metric and guardrail.'),
    caps: z
      .array(z.unknown())
      .optional()
      .describe('Capped primary metrics: each stage’s cap, or why uncapped.'),
    sourceErrors: z
      .array(z.string())
      .optional()
      .describe(
        'Metric sources that failed in this analysis (unreachable, query error, ambiguous), with the reason; consecutiveErrorLimit in a row pause the rollout.',
      ),
  })
  .describe('One analysis: the gate’s decision with every metric’s reason (details has the full output).')
  .meta({ id: 'Analysis' });

export const rolloutEventSchema = z
  .object({
    seq: z.number().int(),
    type: z.string().describe('transition, approved, paused, resumed, extended, signal_refused, …'),
    from: state.nullable(),
    to: state.nullable(),
    actor: z.string(),
    reason: z.string().nullable(),
    at: z.string(),
  })
  .meta({ id: 'RolloutEvent' });

export const rolloutStatusSchema = z
  .object({
    rolloutId: z.string(),
    model: z.string(),
    champion: z.string(),
    challenger: z.string(),
    state,
    paused: z.boolean(),
    stage: z
      .object({
        index: z.number().int(),
        mode: z.enum(['shadow', 'canary']),
        weightBp: z.number().int(),
        startedAt: z.string(),
        endsAt: z.string(),
      })
      .nullable(),
    lastAnalysis: analysisSchema.nullable(),
    decision: z.string().nullable(),
    approvals: z.array(z.object({ by: z.string(), comment: z.string().optional(), at: z.string() })),
    events: z.array(rolloutEventSchema).describe('The most recent events (up to 100), oldest first.'),
  })
  .meta({ id: 'RolloutStatus' });

export const rolloutSummarySchema = z
  .object({
    rolloutId: z.string(),
    model: z.string(),
    champion: z.string().nullable(),
    challenger: z.string(),
    state,
    proposedBy: z.string(),
    createdAt: z.string(),
    endedAt: z.string().nullable(),
    decision: z.string().nullable(),
  })
  .meta({ id: 'RolloutSummary' });
