import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ArenaClient } from '../../client/arena-client.js';
import { loadEnv } from '../../config/env.js';
import { createKnex } from '../../db/knex.js';
import { parsePolicyText, type Policy } from '../../policy/policy.js';
import { FINAL_STATES, type RolloutStatus } from '../../rollout/types.js';
import { resolveEndpoints } from '../../stack/endpoints.js';
import { UserFacingError } from '../../errors.js';
import { actor } from '../database.js';
import { emit } from '../output.js';
import { watchRollout } from '../live-view.js';
import { renderStatus } from '../rollout-view.js';

/** Opens the Temporal client and the database for one command and closes both afterwards. */
async function withArena<T>(fn: (arena: ArenaClient) => Promise<T>): Promise<T> {
  const env = loadEnv();
  const endpoints = await resolveEndpoints(env);
  const { connectClient, temporalClient, temporalTargetFromEnv } =
    await import('../../temporal/connection.js');
  const target = temporalTargetFromEnv(env, endpoints.temporal.address);
  const connection = await connectClient(target);
  const knex = createKnex(endpoints.database.url, { max: 2 });
  try {
    return await fn(
      new ArenaClient({
        temporal: temporalClient(connection, target.namespace),
        knex,
        taskQueue: env.ARENA_TASK_QUEUE,
      }),
    );
  } finally {
    await connection.close();
    await knex.destroy();
  }
}

async function loadPolicy(file: string | undefined): Promise<Policy> {
  if (!file) return parsePolicyText('{}', 'policy');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserFacingError(
      `Cannot read the policy file ${file}`,
      'Check the path; see docs/policies.md for the format.',
    );
  }
  return parsePolicyText(text, file);
}

export function registerRollout(program: Command): void {
  const rollout = program
    .command('rollout')
    .description('rollouts of a challenger version (durable Temporal workflows)');

  rollout
    .command('start <model> <version>')
    .description('propose a rollout of VERSION against the current champion')
    .option('--policy <file>', 'policy file (YAML or JSON); defaults to the promotion guidelines')
    .option('--by <who>', 'who proposes it')
    .option('--json', 'machine-readable output')
    .action(
      async (model: string, version: string, opts: { policy?: string; by?: string; json?: boolean }) => {
        const policy = await loadPolicy(opts.policy);
        const started = await withArena((arena) =>
          arena.startRollout({ model, challenger: version, policy, proposedBy: actor(opts.by) }),
        );
        emit(opts.json, { rolloutId: started.rolloutId }, () =>
          [
            `Started rollout ${started.rolloutId} (workflow ${started.workflowId}).`,
            policy.approval.required
              ? `It waits for approval: arena rollout approve ${started.rolloutId} --by WHO`
              : '',
            `Follow it: arena rollout status ${started.rolloutId} --watch`,
          ]
            .filter(Boolean)
            .join('\n'),
        );
      },
    );

  rollout
    .command('status <rolloutId>')
    .description('where a rollout stands: state, stage, split, samples, latest estimate, decisions')
    .option('--watch', 'refresh every second until the rollout ends')
    .option('--json', 'machine-readable output')
    .action(async (rolloutId: string, opts: { watch?: boolean; json?: boolean }) => {
      await withArena(async (arena) => {
        if (opts.watch && !opts.json) {
          await watchRollout({
            arena,
            rolloutId,
            stream: process.stdout,
            write: (text) => process.stdout.write(`${text}\n`),
          });
          return;
        }
        for (;;) {
          const status = await arena.status(rolloutId);
          emit(opts.json, toStatusJson(status), () => renderStatus(status));
          if (!opts.watch || FINAL_STATES.includes(status.state)) return;
          await new Promise((r) => setTimeout(r, 1000));
        }
      });
    });

  rollout
    .command('list')
    .option('--model <model>', 'only this model')
    .option('--active', 'only rollouts that have not ended')
    .option('--json', 'machine-readable output')
    .action(async (opts: { model?: string; active?: boolean; json?: boolean }) => {
      const list = await withArena((arena) =>
        arena.list({
          ...(opts.model ? { model: opts.model } : {}),
          ...(opts.active ? { active: true } : {}),
        }),
      );
      emit(opts.json, list, () =>
        list.length === 0
          ? 'No rollouts.'
          : list
              .map(
                (r) =>
                  `${r.rolloutId.padEnd(40)} ${r.state.padEnd(18)} ${r.model} ${r.champion ?? '-'} → ${r.challenger}  by ${r.proposedBy}`,
              )
              .join('\n'),
      );
    });

  const action = (
    name: 'approve' | 'reject' | 'pause' | 'resume' | 'abort' | 'promote',
    description: string,
    needsReason = false,
  ): void => {
    const cmd = rollout
      .command(`${name} <rolloutId>`)
      .description(description)
      .option('--by <who>', 'who acts (recorded in the audit ledger)')
      .option(
        name === 'approve' || name === 'reject' ? '--comment <text>' : '--reason <text>',
        needsReason ? 'why (required)' : 'why',
      )
      .option('--json', 'machine-readable output');
    if (name === 'abort')
      void cmd.option(
        '--reject',
        'also mark the version rejected (final); without it the version can be rolled out again',
      );
    void cmd.action(
      async (
        rolloutId: string,
        opts: { by?: string; comment?: string; reason?: string; json?: boolean; reject?: boolean },
      ) => {
        const by = actor(opts.by);
        const why = opts.comment ?? opts.reason;
        if (needsReason && !why)
          throw new UserFacingError(
            `${name} needs --reason`,
            `arena rollout ${name} ${rolloutId} --by ${by} --reason "why"`,
          );
        const status = await withArena((arena) => {
          switch (name) {
            case 'approve':
              return arena.approve(rolloutId, { by, ...(why ? { comment: why } : {}) });
            case 'reject':
              return arena.reject(rolloutId, { by, ...(why ? { reason: why } : {}) });
            case 'pause':
              return arena.pause(rolloutId, { by, ...(why ? { reason: why } : {}) });
            case 'resume':
              return arena.resume(rolloutId, { by, ...(why ? { reason: why } : {}) });
            case 'abort':
              return arena.abort(rolloutId, {
                by,
                reason: why!,
                ...(opts.reject ? { reject: true } : {}),
              });
            case 'promote':
              return arena.promoteNow(rolloutId, { by, ...(why ? { reason: why } : {}) });
          }
        });
        emit(opts.json, toStatusJson(status), () => `${name}: accepted. ${rolloutId} is ${status.state}.`);
      },
    );
  };
  action('approve', 'approve a proposed rollout (or a pending promotion)');
  action('reject', 'reject a proposed rollout (or a pending promotion)');
  action('pause', 'pause analysis and stage timers; traffic stays as it is');
  action('resume', 'resume a paused rollout');
  action(
    'abort',
    'manual rollback: the champion takes all traffic and the version stays retryable (--reject: rejected, final); during the watch the previous champion is promoted back',
    true,
  );

  rollout
    .command('retry <rolloutId>')
    .description(
      "start a new rollout of an aborted, expired or rolled-back rollout's version, with its policy, linked to it",
    )
    .option('--by <who>', 'who proposes the retry (recorded in the audit ledger)')
    .option('--reason <text>', 'why')
    .option('--json', 'machine-readable output')
    .action(async (rolloutId: string, opts: { by?: string; reason?: string; json?: boolean }) => {
      const by = actor(opts.by);
      const started = await withArena((arena) =>
        arena.retry(rolloutId, { by, ...(opts.reason ? { reason: opts.reason } : {}) }),
      );
      emit(
        opts.json,
        { ...started, retryOf: rolloutId },
        () =>
          `Started ${started.rolloutId}, a retry of ${rolloutId}.\n` +
          `Follow it: arena rollout status ${started.rolloutId} --watch`,
      );
    });
  action('promote', 'promote now, skipping the remaining stages (audited)');

  program
    .command('rollback <model>')
    .description(
      "abort the model's active rollout (manual rollback), also during the watch: the previous champion is restored",
    )
    .option('--by <who>', 'who acts')
    .requiredOption('--reason <text>', 'why')
    .option('--reject', 'also mark the version rejected (final)')
    .option('--json', 'machine-readable output')
    .action(
      async (model: string, opts: { by?: string; reason: string; json?: boolean; reject?: boolean }) => {
        const status = await withArena(async (arena) => {
          const [active] = await arena.list({ model, active: true });
          if (!active)
            throw new UserFacingError(
              `No active rollout of ${model}`,
              `To restore the previous champion: arena model undo ${model} --reason TEXT`,
              { code: 'not_found' },
            );
          return arena.abort(active.rolloutId, {
            by: actor(opts.by),
            reason: opts.reason,
            ...(opts.reject ? { reject: true } : {}),
          });
        });
        emit(
          opts.json,
          toStatusJson(status),
          () => `Rolling back ${status.rolloutId}: the champion ${status.champion} takes all traffic.`,
        );
      },
    );
}

/** The JSON shape of DESIGN.md §7 for `arena rollout status --json`. */
export function toStatusJson(s: RolloutStatus) {
  return {
    rolloutId: s.rolloutId,
    model: s.model,
    champion: s.champion,
    challenger: s.challenger,
    state: s.state,
    paused: s.paused,
    stage: s.stage
      ? {
          index: s.stage.index,
          mode: s.stage.mode,
          weightBp: s.stage.weightBp,
          startedAt: s.stage.startedAt,
          endsAt: s.stage.endsAt,
        }
      : null,
    lastAnalysis: s.lastAnalysis,
    decision: s.decision,
    approvals: s.approvals,
    events: s.events,
  };
}
