import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { z } from 'zod';
import {
  EXPERIMENT_TYPES,
  type CompleteInput,
  type ExperimentInput,
  type ExperimentStatus,
} from '../experiments/types.js';
import { listExperiments } from '../experiments/store.js';
import { InvalidInputError } from '../errors.js';
import { parseVersion } from '../registry/version.js';
import { UserFacingError } from '../errors.js';
import type { experimentWorkflow } from '../../workflows/experiment.js';

export const experimentWorkflowId = (tenantId: string, experimentId: string): string =>
  `experiment-${tenantId}-${experimentId}`;

const proposalSchema = z.object({
  name: z.string().min(1, 'is required').max(200),
  hypothesis: z.string().min(1, 'is required').max(4000),
  type: z.enum(EXPERIMENT_TYPES),
  expectedImprovement: z.number().min(-1).max(10).nullable().default(null),
  proposer: z.string().min(1, 'who proposes is required'),
  segments: z
    .array(z.object({ segment: z.string().min(1), model: z.string().min(1), challenger: z.string().min(1) }))
    .min(1, 'at least one segment (or one model) is required'),
  rolloutPolicy: z.record(z.string(), z.unknown()).optional(),
});
export type ExperimentProposal = z.input<typeof proposalSchema>;

/** The typed way to run experiments from code (and what `arena experiment …` uses). */
export class ExperimentClient {
  private readonly tenantId: string;
  constructor(private readonly o: { temporal: Client; knex: Knex; taskQueue: string; tenantId?: string }) {
    this.tenantId = o.tenantId ?? 'default';
  }

  async propose(proposal: ExperimentProposal): Promise<{ experimentId: string; workflowId: string }> {
    const parsed = proposalSchema.safeParse(proposal);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.');
      let value: unknown = proposal;
      for (const k of issue.path)
        value = (value as Record<string | number, unknown> | undefined)?.[k as string];
      throw new InvalidInputError(field, value, issue.message);
    }
    const p = parsed.data;
    const experimentId = `exp-${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
    const input: ExperimentInput = {
      experimentId,
      tenantId: this.tenantId,
      name: p.name,
      hypothesis: p.hypothesis,
      type: p.type,
      expectedImprovement: p.expectedImprovement,
      proposer: p.proposer,
      segments: p.segments.map((s) => ({
        ...s,
        challenger: parseVersion(s.challenger, `segments.${s.segment}.challenger`).version,
      })),
      ...(p.rolloutPolicy ? { rolloutPolicy: p.rolloutPolicy } : {}),
    };
    const workflowId = experimentWorkflowId(this.tenantId, experimentId);
    await this.o.temporal.workflow.start<typeof experimentWorkflow>('experimentWorkflow', {
      taskQueue: this.o.taskQueue,
      workflowId,
      args: [input],
      staticSummary: `Experiment ${p.name}`,
    });
    return { experimentId, workflowId };
  }

  private handle(experimentId: string) {
    return this.o.temporal.workflow.getHandle<typeof experimentWorkflow>(
      experimentWorkflowId(this.tenantId, experimentId),
    );
  }

  private async update<A>(experimentId: string, name: string, arg: A): Promise<ExperimentStatus> {
    try {
      return await this.handle(experimentId).executeUpdate<ExperimentStatus, [A]>(name, { args: [arg] });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError)
        throw new UserFacingError(
          `${name} refused: ${(err.cause as Error | undefined)?.message ?? err.message}`,
          `See the experiment: arena experiment show ${experimentId}`,
          { cause: err },
        );
      throw err;
    }
  }

  approve(id: string, a: { by: string; comment?: string }) {
    return this.update(id, 'approve', a);
  }
  reject(id: string, a: { by: string; comment?: string }) {
    return this.update(id, 'reject', a);
  }
  start(id: string, a: { by: string }) {
    return this.update(id, 'start', a);
  }
  complete(id: string, c: CompleteInput) {
    return this.update(id, 'complete', c);
  }

  async status(experimentId: string): Promise<ExperimentStatus> {
    const handle = this.handle(experimentId);
    const d = await handle.describe().catch(() => null);
    if (!d)
      throw new UserFacingError(`No experiment ${experimentId}`, 'List them: arena experiment list', {
        code: 'not_found',
      });
    return d.status.name === 'RUNNING'
      ? handle.query<ExperimentStatus>('status')
      : ((await handle.result()) as ExperimentStatus);
  }

  async list(opts: { status?: string } = {}) {
    return (await listExperiments(this.o.knex, this.tenantId, opts.status)).map((r) => ({
      experimentId: r.id,
      name: r.name,
      status: r.status,
      type: r.type,
      proposer: r.proposer,
      approver: r.approver ?? null,
      decision: r.decision ?? null,
      createdAt: r.created_at.toISOString(),
    }));
  }
}
