import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import { parse as parseYaml } from 'yaml';
import { InvalidInputError, UnknownModelError } from '../../errors.js';
import { storeTrainingConfig } from '../../registry/model-store.js';
import { getRetrainJob, listRetrainJobs } from '../../retrain/job-store.js';
import { retrainJobView } from '../../retrain/job-view.js';
import { startRetrain } from '../../retrain/launcher.js';
import { parseTrainingConfig } from '../../retrain/training-config.js';
import { retrainWorkflowId, type RetrainTrigger } from '../../retrain/types.js';
import { UserFacingError } from '../../errors.js';
import { actor, withKnex } from '../database.js';
import { emit } from '../output.js';
import { integerOption } from '../parse.js';
import { withTemporal } from '../temporal.js';

const jobJson = retrainJobView;

function jobLine(j: ReturnType<typeof jobJson>): string {
  const m = j.metrics;
  const figures =
    m?.candidate && m.champion
      ? ` MAE ${m.candidate.mae.toFixed(3)} vs ${m.champion.mae.toFixed(3)} (${((m.improvement ?? 0) * 100).toFixed(1)}%)`
      : '';
  const deployed = j.deployedAt ? `  deployed ${j.deployedAt.slice(0, 16).replace('T', ' ')}Z` : '';
  return `${j.jobId}  ${j.model}  ${j.trigger.padEnd(11)} ${j.status.padEnd(11)} ${j.candidate ?? '-'}${figures}  ${j.seconds ?? '-'}s${deployed}${j.error ? `\n    ${j.error}` : ''}`;
}

/** Reads, validates and stores a training configuration (as written: defaults apply when it is used). */
async function saveTrainingConfig(knex: Knex, model: string, file: string) {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidInputError('--config', file, `cannot be read (${(err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) as unknown;
  } catch (err) {
    throw new InvalidInputError('--config', file, `is not YAML or JSON (${(err as Error).message})`);
  }
  const config = parseTrainingConfig(raw, file);
  if (!(await storeTrainingConfig(knex, 'default', model, raw))) throw new UnknownModelError(model);
  return config;
}

export function registerRetrain(program: Command): void {
  const retrain = program
    .command('retrain')
    .description('retrain a model: train, validate against the champion, register, roll out')
    .usage('MODEL [options] | <command>');

  // `arena retrain MODEL …` is this default subcommand: options on `retrain` itself would be taken from
  // anywhere on the line, also from `retrain list --json`, where they belong to the subcommand.
  retrain
    .command('start', { isDefault: true })
    .description('start a retraining job now (the default: arena retrain MODEL)')
    .argument('[model]', 'the model to retrain')
    .option('--trigger <trigger>', 'manual, schedule, drift or degradation', 'manual')
    .option('--reason <text>', 'why (kept with the job)')
    .option('--by <who>', 'who asks')
    .option('--config <file>', 'set the training configuration first (as arena retrain configure)')
    .option('--wait', 'wait until the job ends (its rollout included)')
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string | undefined,
        opts: {
          trigger: string;
          reason?: string;
          by?: string;
          config?: string;
          wait?: boolean;
          json?: boolean;
        },
      ) => {
        if (!model) {
          retrain.help();
          return;
        }
        const out = await withTemporal(async ({ client, knex, taskQueue }) => {
          if (opts.config) await saveTrainingConfig(knex, model, opts.config);
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
          const view = (await client.workflow.getHandle(started.workflowId).result()) as {
            status: string;
            error: string | null;
            candidate: string | null;
          };
          return { ...started, status: view.status, candidate: view.candidate, error: view.error };
        });
        emit(opts.json, out, () =>
          'status' in out
            ? `Retraining job ${out.jobId} of ${model} ended ${out.status}${out.candidate ? ` (candidate ${out.candidate})` : ''}${out.error ? `: ${out.error}` : ''}.`
            : [
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
      const config = await withKnex((knex) => saveTrainingConfig(knex, model, opts.config));
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
      const limit = integerOption('--limit', opts.limit, { min: 1, max: 10_000 });
      const rows = await withKnex(async (knex) => {
        const jobs = await listRetrainJobs(knex, { model: opts.model, limit });
        return jobs.map(jobJson);
      });
      emit(opts.json, rows, () => (rows.length ? rows.map(jobLine).join('\n') : 'No retraining jobs.'));
    });

  retrain
    .command('status <jobId>')
    .description('one job: trigger, status, candidate, validation figures, error, duration')
    .option('--json', 'machine-readable output')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      const job = await withKnex(async (knex) => {
        const row = await getRetrainJob(knex, jobId);
        if (!row)
          throw new UserFacingError(`No retraining job ${jobId}`, 'List them: arena retrain list', {
            code: 'not_found',
          });
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
        const row = await getRetrainJob(knex, jobId);
        if (!row)
          throw new UserFacingError(`No retraining job ${jobId}`, 'List them: arena retrain list', {
            code: 'not_found',
          });
        await client.workflow.getHandle(retrainWorkflowId(row.tenant_id, row.model, jobId)).cancel();
      });
      emit(opts.json, { jobId, cancelled: true }, () => `Cancellation of ${jobId} requested.`);
    });
}
