import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { InvalidInputError, UnknownModelError } from '../../registry/errors.js';
import { startRetrain } from '../../retrain/start-retrain.js';
import { parseTrainingConfig } from '../../retrain/training-config.js';
import { retrainWorkflowId, type RetrainTrigger } from '../../retrain/types.js';
import { UserFacingError } from '../../user-error.js';
import { actor, withKnex } from '../database.js';
import { emit } from '../output.js';
import { withTemporal } from '../temporal.js';

interface JobRow {
  id: string;
  model: string;
  trigger: string;
  status: string;
  backend: string;
  candidate_version: string | null;
  metrics: { improvement?: number; candidate?: { mae: number }; champion?: { mae: number } } | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

function jobJson(r: JobRow) {
  return {
    jobId: r.id,
    model: r.model,
    trigger: r.trigger,
    status: r.status,
    backend: r.backend,
    candidate: r.candidate_version,
    metrics: r.metrics,
    error: r.error,
    createdAt: r.created_at.toISOString(),
    seconds: r.started_at
      ? Math.round(((r.finished_at ?? new Date()).getTime() - r.started_at.getTime()) / 1000)
      : null,
  };
}

function jobLine(j: ReturnType<typeof jobJson>): string {
  const m = j.metrics;
  const figures =
    m?.candidate && m.champion
      ? ` MAE ${m.candidate.mae.toFixed(3)} vs ${m.champion.mae.toFixed(3)} (${((m.improvement ?? 0) * 100).toFixed(1)}%)`
      : '';
  return `${j.jobId}  ${j.model}  ${j.trigger.padEnd(11)} ${j.status.padEnd(11)} ${j.candidate ?? '-'}${figures}  ${j.seconds ?? '-'}s${j.error ? `\n    ${j.error}` : ''}`;
}

export function registerRetrain(program: Command): void {
  const retrain = program
    .command('retrain')
    .description('retrain a model: train, validate against the champion, register, roll out')
    .argument('[model]', 'the model to retrain now')
    .option('--trigger <trigger>', 'manual, schedule, drift or degradation', 'manual')
    .option('--reason <text>', 'why (kept with the job)')
    .option('--by <who>', 'who asks')
    .option('--wait', 'wait until the job ends (its rollout included)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string | undefined,
        opts: { trigger: string; reason?: string; by?: string; wait?: boolean; json?: boolean },
      ) => {
        if (!model) {
          retrain.help();
          return;
        }
        const out = await withTemporal(async ({ client, knex, taskQueue }) => {
          const started = await startRetrain(
            knex,
            { client, taskQueue },
            {
              model,
              trigger: opts.trigger as RetrainTrigger,
              reason: opts.reason ?? `${opts.trigger} retrain`,
              requestedBy: actor(opts.by),
            },
          );
          if (!opts.wait) return started;
          const view = (await client.workflow.getHandle(started.workflowId).result()) as { status: string };
          return { ...started, status: view.status };
        });
        emit(opts.json, out, () =>
          [
            `Retraining job ${out.jobId} started for ${model}.`,
            `Follow it: arena retrain status ${out.jobId}`,
          ].join('\n'),
        );
      },
    );

  retrain
    .command('configure <model>')
    .description('set how a model is retrained (YAML or JSON; see docs/retraining.md)')
    .requiredOption('--config <file>', 'the training configuration')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { config: string; json?: boolean }) => {
      let text: string;
      try {
        text = await readFile(opts.config, 'utf8');
      } catch (err) {
        throw new InvalidInputError('--config', opts.config, `cannot be read (${(err as Error).message})`);
      }
      const config = parseTrainingConfig(parseYaml(text) as unknown, opts.config);
      await withKnex(async (knex) => {
        const updated = await knex('models')
          .where({ tenant_id: 'default', name: model })
          .update({
            metadata: knex.raw(`metadata || jsonb_build_object('training', ?::jsonb)`, [
              JSON.stringify(parseYaml(text)),
            ]),
          });
        if (updated === 0) throw new UnknownModelError(model);
      });
      emit(
        opts.json,
        { model, training: config },
        () => `Training configuration of ${model} set (${config.backend} backend).`,
      );
    });

  retrain
    .command('list')
    .description('job history: trigger, status, candidate, validation figures, duration')
    .option('--model <model>')
    .option('--limit <n>', 'most recent first', '50')
    .option('--json', 'machine-readable output')
    .action(async (opts: { model?: string; limit: string; json?: boolean }) => {
      const rows = await withKnex(async (knex) => {
        const q = knex('retraining_jobs')
          .orderBy('created_at', 'desc')
          .limit(Number(opts.limit) || 50);
        if (opts.model) void q.where({ model: opts.model });
        return ((await q) as JobRow[]).map(jobJson);
      });
      emit(opts.json, rows, () => (rows.length ? rows.map(jobLine).join('\n') : 'No retraining jobs.'));
    });

  retrain
    .command('status <jobId>')
    .option('--json', 'machine-readable output')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      const job = await withKnex(async (knex) => {
        const row = (await knex('retraining_jobs').where({ id: jobId }).first()) as JobRow | undefined;
        if (!row) throw new UserFacingError(`No retraining job ${jobId}`, 'List them: arena retrain list');
        return jobJson(row);
      });
      emit(opts.json, job, () => jobLine(job));
    });

  retrain
    .command('cancel <jobId>')
    .description('cancel a running job (its training process is killed)')
    .option('--json', 'machine-readable output')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      await withTemporal(async ({ client, knex }) => {
        const row = (await knex('retraining_jobs').where({ id: jobId }).first('model', 'tenant_id')) as
          { model: string; tenant_id: string } | undefined;
        if (!row) throw new UserFacingError(`No retraining job ${jobId}`, 'List them: arena retrain list');
        await client.workflow.getHandle(retrainWorkflowId(row.tenant_id, row.model, jobId)).cancel();
      });
      emit(opts.json, { jobId, cancelled: true }, () => `Cancellation of ${jobId} requested.`);
    });
}
