import { z } from 'zod';
import { EXPERIMENT_DECISIONS, EXPERIMENT_STATES, EXPERIMENT_TYPES } from '../../experiments/types.js';

const segment = z.object({ segment: z.string(), model: z.string(), challenger: z.string() });

export const experimentStatusSchema = z
  .object({
    experimentId: z.string(),
    name: z.string(),
    state: z.enum(EXPERIMENT_STATES),
    hypothesis: z.string(),
    type: z.string(),
    expectedImprovement: z.number().nullable(),
    proposer: z.string(),
    approver: z.string().nullable(),
    segments: z.array(segment),
    results: z
      .array(
        z.object({
          segment: z.string(),
          model: z.string(),
          champion: z.string().nullable(),
          challenger: z.string(),
          metric: z.string(),
          n: z.number(),
          meanDifference: z.number().nullable(),
          ci: z.array(z.number()).nullable(),
          pValue: z.number().nullable(),
          relative: z.number().nullable(),
        }),
      )
      .nullable()
      .describe('Per segment: the shadow comparison of challenger and champion.'),
    decision: z.enum(EXPERIMENT_DECISIONS).nullable(),
    adopted: z.array(z.string()),
    rationale: z.string().nullable(),
    rollouts: z.record(z.string(), z.string()).describe('Segment → the rollout that adopts it.'),
    history: z.array(
      z.object({
        at: z.string(),
        state: z.enum(EXPERIMENT_STATES),
        by: z.string(),
        note: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'ExperimentStatus' });

export const experimentSummarySchema = z
  .object({
    experimentId: z.string(),
    name: z.string(),
    status: z.string(),
    type: z.string(),
    proposer: z.string(),
    approver: z.string().nullable(),
    decision: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'ExperimentSummary' });

export const proposeBody = z
  .object({
    name: z.string().min(1).max(200),
    hypothesis: z.string().min(1).max(4000),
    type: z.enum(EXPERIMENT_TYPES).default('other'),
    expectedImprovement: z
      .number()
      .min(-1)
      .max(10)
      .nullable()
      .optional()
      .describe('A fraction: 0.05 is 5 %.'),
    segments: z
      .array(segment)
      .min(1)
      .describe('One entry per segment of a segmented model; a single model is one segment.'),
    rolloutPolicy: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('The policy of the adopting rollouts.'),
  })
  .strict();

export const completeBody = z
  .object({
    decision: z.enum(EXPERIMENT_DECISIONS),
    rationale: z.string().min(1).max(4000),
    adopt: z.array(z.string()).optional().describe('partial_adopt: the segments to adopt.'),
  })
  .strict();
