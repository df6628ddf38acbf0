import { ApplicationFailure } from '@temporalio/activity';
import { insertApproval } from '../src/approvals/approval-store.js';
import { appendAudit, isAudited } from '../src/db/audit.js';
import { measureSegments } from '../src/experiments/results.js';
import { insertExperiment, updateExperimentState } from '../src/experiments/store.js';
import type { ExperimentInput, ExperimentState, SegmentResult } from '../src/experiments/types.js';
import type { PolicyInput } from '../src/policy/policy.js';
import { InvalidInputError, RegistryError } from '../src/errors.js';
import { getVersion } from '../src/registry/registry.js';
import { prepareRollout, type PreparedRollout } from '../src/rollout/prepare.js';
import type { ActivityDeps } from './deps.js';

/**
 * The experiment's records: its row, every state change with the actor in the audit ledger, approvals,
 * and its measured results. Keys (experiment id + state, subject + actor) make retried writes no-ops.
 */
export function experimentActivities({ knex, rolloutWorkflowPrefix }: ActivityDeps) {
  return {
    async recordExperimentProposal(input: ExperimentInput): Promise<void> {
      // Every segment's model and challenger must exist before anyone is asked to approve.
      for (const s of input.segments)
        await getVersion(knex, s.model, s.challenger, input.tenantId).catch((err: unknown) => {
          if (err instanceof RegistryError)
            throw ApplicationFailure.create({
              type: 'InvalidInputError',
              message: `segment ${s.segment}: ${err.message}`,
              nonRetryable: true,
            });
          throw err;
        });
      await knex.transaction(async (trx) => {
        if (!(await insertExperiment(trx, input))) return;
        await appendAudit(trx, {
          tenantId: input.tenantId,
          actor: input.proposer,
          action: 'experiment.proposed',
          entityType: 'experiment',
          entityId: input.experimentId,
          details: {
            name: input.name,
            hypothesis: input.hypothesis,
            type: input.type,
            segments: input.segments,
            expectedImprovement: input.expectedImprovement,
          },
          idempotencyKey: `experiment:${input.experimentId}:proposed`,
        });
      });
    },

    async recordExperimentState(args: {
      input: ExperimentInput;
      state: ExperimentState;
      by: string;
      note?: string | null;
      approval?: { decision: 'approved' | 'rejected'; comment: string | null };
      results?: SegmentResult[];
      decision?: string;
      rationale?: string;
      rollouts?: Record<string, string>;
    }): Promise<void> {
      const { input } = args;
      await knex.transaction(async (trx) => {
        if (await isAudited(trx, `experiment:${input.experimentId}:${args.state}`)) return;
        await updateExperimentState(trx, input, {
          state: args.state,
          ...(args.approval ? { approver: args.by } : {}),
          ...(args.results ? { results: args.results } : {}),
          ...(args.rollouts ? { rollouts: args.rollouts } : {}),
          ...(args.decision ? { decision: args.decision } : {}),
          ...(args.rationale ? { rationale: args.rationale } : {}),
        });
        if (args.approval)
          await insertApproval(trx, {
            tenantId: input.tenantId,
            subjectType: 'experiment',
            subjectId: input.experimentId,
            actor: args.by,
            decision: args.approval.decision,
            comment: args.approval.comment,
          });
        await appendAudit(trx, {
          tenantId: input.tenantId,
          actor: args.by,
          action: `experiment.${args.state}`,
          entityType: 'experiment',
          entityId: input.experimentId,
          details: {
            reason: args.note ?? null,
            ...(args.approval ? { comment: args.approval.comment } : {}),
            ...(args.decision ? { decision: args.decision, rationale: args.rationale } : {}),
            ...(args.results ? { results: args.results } : {}),
            ...(args.rollouts ? { rollouts: args.rollouts } : {}),
          },
          idempotencyKey: `experiment:${input.experimentId}:${args.state}`,
        });
      });
    },

    async measureExperiment(args: { input: ExperimentInput; since: string }): Promise<SegmentResult[]> {
      return measureSegments(knex, {
        tenantId: args.input.tenantId,
        segments: args.input.segments,
        since: new Date(args.since),
      });
    },

    async prepareSegmentRollout(args: {
      input: ExperimentInput;
      segment: string;
      by: string;
    }): Promise<PreparedRollout> {
      const s = args.input.segments.find((x) => x.segment === args.segment)!;
      try {
        return await prepareRollout(
          knex,
          args.input.tenantId,
          {
            model: s.model,
            challenger: s.challenger,
            policy: (args.input.rolloutPolicy ?? {}) as PolicyInput,
            proposedBy: args.by,
            rolloutId: `${s.model}-exp-${args.input.experimentId}`,
          },
          rolloutWorkflowPrefix,
        );
      } catch (err) {
        if (err instanceof InvalidInputError || err instanceof RegistryError)
          throw ApplicationFailure.create({ type: err.name, message: err.message, nonRetryable: true });
        throw err;
      }
    },
  };
}
