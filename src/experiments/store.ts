import type { Knex } from 'knex';
import type { ExperimentInput, ExperimentState, SegmentResult } from './types.js';

export interface ExperimentRow {
  id: string;
  tenant_id: string;
  name: string;
  model: string | null;
  hypothesis: string;
  type: string;
  expected_improvement: number | null;
  status: string;
  proposer: string;
  approver: string | null;
  results: unknown;
  decision: string | null;
  rationale: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Writes a proposed experiment once; true when this call wrote it (a retry finds it there). */
export async function insertExperiment(trx: Knex.Transaction, input: ExperimentInput): Promise<boolean> {
  const inserted = await trx('experiments')
    .insert({
      id: input.experimentId,
      tenant_id: input.tenantId,
      name: input.name,
      model: input.segments.map((s) => s.model).join(','),
      hypothesis: input.hypothesis,
      type: input.type,
      expected_improvement: input.expectedImprovement,
      status: 'proposed',
      proposer: input.proposer,
      results: JSON.stringify({ segments: input.segments }),
    })
    .onConflict('id')
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/**
 * Moves an experiment to a new state; the approver, the measured results (kept with the segments and their
 * rollouts), the decision and its rationale are written only when given.
 */
export async function updateExperimentState(
  trx: Knex.Transaction,
  input: ExperimentInput,
  change: {
    state: ExperimentState;
    approver?: string;
    results?: SegmentResult[];
    rollouts?: Record<string, string>;
    decision?: string;
    rationale?: string;
  },
): Promise<void> {
  await trx('experiments')
    .where({ id: input.experimentId })
    .update({
      status: change.state,
      updated_at: trx.fn.now(),
      ...(change.approver ? { approver: change.approver } : {}),
      ...(change.results
        ? {
            results: JSON.stringify({
              segments: input.segments,
              measured: change.results,
              rollouts: change.rollouts ?? {},
            }),
          }
        : {}),
      ...(change.decision ? { decision: change.decision } : {}),
      ...(change.rationale ? { rationale: change.rationale } : {}),
    });
}

/** A tenant's experiments, newest first, at most 200, optionally in one status. */
export async function listExperiments(
  knex: Knex,
  tenantId: string,
  status?: string,
): Promise<ExperimentRow[]> {
  const q = knex('experiments').where({ tenant_id: tenantId }).orderBy('created_at', 'desc').limit(200);
  if (status) void q.where({ status });
  return (await q) as ExperimentRow[];
}
