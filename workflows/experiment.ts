import { defineSearchAttributeKey } from '@temporalio/common';
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type {
  CompleteInput,
  ExperimentInput,
  ExperimentState,
  ExperimentStatus,
} from '../src/experiments/types.js';
import { raiseAndNotify } from './alerting.js';
import { startRolloutChild } from './start-rollout.js';
import { NON_RETRYABLE_ERROR_TYPES } from '../src/errors.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    nonRetryableErrorTypes: NON_RETRYABLE_ERROR_TYPES,
  },
});

export interface ActorComment {
  by: string;
  comment?: string;
}

export const approveExperiment = defineUpdate<ExperimentStatus, [ActorComment]>('approve');
export const rejectExperiment = defineUpdate<ExperimentStatus, [ActorComment]>('reject');
export const startExperiment = defineUpdate<ExperimentStatus, [ActorComment]>('start');
export const completeExperiment = defineUpdate<ExperimentStatus, [CompleteInput]>('complete');
export const experimentStatusQuery = defineQuery<ExperimentStatus>('status');

const SA_STATE = defineSearchAttributeKey('ArenaState', 'KEYWORD');

const refuse = (message: string): never => {
  throw ApplicationFailure.create({ type: 'ExperimentActionRefused', message, nonRetryable: true });
};

/**
 * proposed → approved | rejected → in_progress → shadow_testing → completed. A person other than the
 * proposer approves; starting puts every segment's challenger in shadow; completing records the measured
 * per-segment results with a decision (adopt, reject, partial_adopt) and its rationale, and starts a
 * rollout for each adopted segment.
 */
export async function experimentWorkflow(input: ExperimentInput): Promise<ExperimentStatus> {
  const s: ExperimentStatus = {
    experimentId: input.experimentId,
    name: input.name,
    state: 'proposed',
    hypothesis: input.hypothesis,
    type: input.type,
    expectedImprovement: input.expectedImprovement,
    proposer: input.proposer,
    approver: null,
    segments: input.segments,
    results: null,
    decision: null,
    adopted: [],
    rationale: null,
    rollouts: {},
    history: [],
  };
  let pending: {
    kind: 'approve' | 'reject' | 'start' | 'complete';
    by: string;
    comment?: string;
    complete?: CompleteInput;
  } | null = null;
  let shadowSince = '';

  const show = (): void => {
    upsertSearchAttributes([{ key: SA_STATE, value: `experiment:${s.state}` }]);
    setCurrentDetails(
      [
        `**Experiment ${input.name}** (${input.type}): ${s.state}`,
        `Hypothesis: ${input.hypothesis}`,
        `Segments: ${input.segments.map((x) => `${x.segment} → ${x.model} ${x.challenger}`).join(', ')}`,
        s.decision ? `Decision: ${s.decision} (${s.adopted.join(', ') || 'none'}) — ${s.rationale}` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  };
  const move = async (
    state: ExperimentState,
    by: string,
    note: string | null,
    extra: Partial<Parameters<Activities['recordExperimentState']>[0]> = {},
  ) => {
    await acts.recordExperimentState({ input, state, by, note, ...extra });
    s.state = state;
    s.history.push({ at: new Date(Date.now()).toISOString(), state, by, note });
    show();
    // Completion raises experiment_complete itself; histories from before these events replay without them.
    if ((state === 'approved' || state === 'rejected') && patched('lifecycle-notifications'))
      await raiseAndNotify({
        tenantId: input.tenantId,
        type: 'experiment_decision',
        severity: 'info',
        model: input.segments[0]?.model ?? input.name,
        rolloutId: null,
        title: `Experiment ${input.name} ${state} by ${by}${note ? `: ${note}` : ''}`,
        details: {
          experimentId: input.experimentId,
          decision: state,
          by,
          workflowId: workflowInfo().workflowId,
          figures: { decision: state, by, segments: input.segments.length },
        },
        dedupeKey: `experiment:${input.experimentId}:${state}`,
      });
  };

  setHandler(experimentStatusQuery, () => s, {
    description:
      'The experiment as it stands: state, segments, analyses and the history of its moves. Takes no input.',
  });
  const expect = (states: ExperimentState[], what: string): void => {
    if (pending) refuse(`another action on ${input.experimentId} is in progress`);
    if (!states.includes(s.state))
      refuse(`cannot ${what} experiment ${input.experimentId}: it is ${s.state}`);
  };
  // An Update returns once the workflow has carried the action out and recorded it.
  const waitFor = async (): Promise<ExperimentStatus> => {
    await condition(() => pending === null);
    return s;
  };
  setHandler(
    approveExperiment,
    async (a) => {
      pending = { kind: 'approve', by: a.by, ...(a.comment ? { comment: a.comment } : {}) };
      return waitFor();
    },
    {
      validator: (a) => {
        expect(['proposed'], 'approve');
        if (!a.by?.trim()) refuse('who approves is required');
        // Separation of duties: the person who proposes an experiment does not approve it.
        if (a.by === input.proposer)
          refuse(`${a.by} proposed ${input.experimentId} and cannot approve it too`);
      },
      description:
        'Approves a proposed experiment. Takes {by, comment?}; example: {"by":"carol","comment":"plan reviewed"}. Refused unless it is proposed, or when `by` proposed it (separation of duties). Answers with the status once recorded.',
    },
  );
  setHandler(
    rejectExperiment,
    async (a) => {
      pending = { kind: 'reject', by: a.by, ...(a.comment ? { comment: a.comment } : {}) };
      return waitFor();
    },
    {
      validator: (_a) => expect(['proposed'], 'reject'),
      description:
        'Rejects a proposed experiment. Takes {by, comment?}; example: {"by":"carol","comment":"not now"}. Answers with the status once recorded.',
    },
  );
  setHandler(
    startExperiment,
    async (a) => {
      pending = { kind: 'start', by: a.by };
      return waitFor();
    },
    {
      validator: (_a) => expect(['approved'], 'start'),
      description:
        'Starts an approved experiment: its segments\' rollouts begin. Takes {by}; example: {"by":"carol"}. Answers with the status once recorded.',
    },
  );
  setHandler(
    completeExperiment,
    async (c) => {
      pending = { kind: 'complete', by: c.by, complete: c };
      return waitFor();
    },
    {
      validator: (c) => {
        expect(['in_progress', 'shadow_testing'], 'complete');
        if (!c.rationale?.trim()) refuse('a rationale is required');
        const names = input.segments.map((x) => x.segment);
        for (const a of c.adopt ?? [])
          if (!names.includes(a)) refuse(`unknown segment ${a} (segments: ${names.join(', ')})`);
        if (c.decision === 'partial_adopt' && !(c.adopt?.length && c.adopt.length < names.length))
          refuse('partial_adopt needs some, but not all, segments in adopt');
      },
      description:
        'Completes a running experiment with a decision. Takes {by, decision, rationale, adopt?}; example: {"by":"carol","decision":"adopt","rationale":"wins in every segment"}. partial_adopt names the segments to adopt. Answers with the status once recorded.',
    },
  );

  upsertSearchAttributes([
    { key: defineSearchAttributeKey('ArenaModel', 'KEYWORD'), value: input.segments[0]?.model ?? input.name },
  ]);
  await acts.recordExperimentProposal(input);
  s.history.push({
    at: new Date(Date.now()).toISOString(),
    state: 'proposed',
    by: input.proposer,
    note: input.hypothesis,
  });
  show();

  for (;;) {
    await condition(() => pending !== null);
    const p = pending!;
    if (p.kind === 'approve') {
      s.approver = p.by;
      await move('approved', p.by, p.comment ?? null, {
        approval: { decision: 'approved', comment: p.comment ?? null },
      });
    } else if (p.kind === 'reject') {
      await move('rejected', p.by, p.comment ?? null, {
        approval: { decision: 'rejected', comment: p.comment ?? null },
      });
      pending = null;
      break;
    } else if (p.kind === 'start') {
      await move('in_progress', p.by, null);
      shadowSince = new Date(Date.now()).toISOString();
      for (const seg of input.segments)
        await acts.setRouting({
          model: seg.model,
          change: { challenger: seg.challenger, mode: 'shadow' },
          actor: p.by,
          reason: `experiment ${input.experimentId}: shadow test of ${seg.challenger}`,
          idempotencyKey: `${input.experimentId}:shadow:${seg.segment}`,
        });
      await move('shadow_testing', 'arena', 'every segment challenger mirrored in shadow');
    } else {
      const c = p.complete!;
      const results = shadowSince ? await acts.measureExperiment({ input, since: shadowSince }) : [];
      for (const seg of input.segments)
        await acts.setRouting({
          model: seg.model,
          change: { challenger: null, mode: 'off', weightBp: 0, shadow: [] },
          actor: c.by,
          reason: `experiment ${input.experimentId} completed`,
          idempotencyKey: `${input.experimentId}:unshadow:${seg.segment}`,
        });
      const adopted =
        c.decision === 'adopt'
          ? input.segments.map((x) => x.segment)
          : c.decision === 'reject'
            ? []
            : (c.adopt ?? []);
      const rollouts: Record<string, string> = {};
      for (const segment of adopted) {
        const prepared = await acts.prepareSegmentRollout({ input, segment, by: c.by });
        await startRolloutChild(prepared, `${prepared.summary} (experiment ${input.experimentId})`);
        rollouts[segment] = prepared.args.rolloutId;
      }
      s.results = results;
      s.decision = c.decision;
      s.adopted = adopted;
      s.rationale = c.rationale;
      s.rollouts = rollouts;
      await move('completed', c.by, c.rationale, {
        results,
        decision: c.decision,
        rationale: c.rationale,
        rollouts,
      });
      await raiseAndNotify({
        tenantId: input.tenantId,
        type: 'experiment_complete',
        severity: 'info',
        model: input.segments[0]?.model ?? input.name,
        rolloutId: null,
        title: `Experiment ${input.name}: ${c.decision}${adopted.length ? ` (${adopted.join(', ')})` : ''}`,
        details: {
          experimentId: input.experimentId,
          results,
          rollouts,
          rationale: c.rationale,
          workflowId: workflowInfo().workflowId,
        },
        dedupeKey: `experiment:${input.experimentId}:complete`,
      });
      pending = null;
      break;
    }
    pending = null;
  }
  await condition(allHandlersFinished);
  return s;
}
