import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import {
  createModelSchedules,
  createRetentionSchedule,
  listModelSchedules,
  RETENTION_CADENCE,
  setSchedulePaused,
} from '../../schedules/model-schedules.js';
import { InvalidInputError, UserFacingError } from '../../errors.js';
import { cronProblem, timezoneProblem } from '../../schedules/cadence.js';
import type { DriftCheckOutcome } from '../../../workflows/drift-check.js';
import type { ChampionMonitorOutcome } from '../../../workflows/champion-monitor.js';
import { actor } from '../database.js';
import { emit } from '../output.js';
import { withTemporal } from '../temporal.js';

/** Runs one of a model's scheduled checks now, as its schedule would, and waits for its outcome. */
function runNow<T>(workflowType: string, idPrefix: string, model: string): Promise<T> {
  return withTemporal(async ({ client, taskQueue }) => {
    const handle = await client.workflow.start(workflowType, {
      taskQueue,
      workflowId: `${idPrefix}-${model}-${randomBytes(3).toString('hex')}`,
      args: [{ tenantId: 'default', model }],
    });
    return (await handle.result()) as T;
  });
}

export function registerMonitoring(program: Command): void {
  const drift = program.command('drift').description('data drift of a model’s inputs and predictions');
  drift
    .command('check <model>')
    .description('compare recent traffic with the champion’s training profile now (PSI and KS per feature)')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { json?: boolean }) => {
      const out = await runNow<DriftCheckOutcome>('driftCheckWorkflow', 'arena-drift-check', model);
      emit(opts.json, out, () =>
        [
          `${model} (champion ${out.champion ?? '—'}): ${out.drifted ? 'DRIFT' : 'no drift'} — ${out.summary}`,
          ...out.features.map(
            (f) => `  ${f.drifted ? '!' : ' '} ${f.reason} (n ${f.current} vs ${f.reference})`,
          ),
          ...out.skipped.map((s) => `    ${s.feature}: not checked, ${s.reason}`),
          `  ${out.performance.degraded ? '! ' : ''}${out.performance.reason}`,
          ...(out.retrain ? [`  ${out.retrain.note}`] : []),
        ].join('\n'),
      );
    });

  program
    .command('monitor')
    .description('the live champion against its baseline and the alert tiers')
    .command('check <model>')
    .description(
      'run the champion monitor now: accuracy against the baseline, latency, error rate and the 48 h stability rule; raises and resolves alerts as the schedule does',
    )
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { json?: boolean }) => {
      const out = await runNow<ChampionMonitorOutcome>(
        'championMonitorWorkflow',
        'arena-monitor-check',
        model,
      );
      emit(opts.json, out, () =>
        [
          `${model} (champion ${out.champion ?? '—'})`,
          ...out.findings.map(
            (f) => `  ${(f.tier ?? 'unknown').padEnd(8)} ${f.check.padEnd(10)} ${f.reason}`,
          ),
          ...out.events.map((e) => `  → ${e.check} ${e.kind}${e.kind === 'resolved' ? '' : ` (${e.tier})`}`),
          ...(out.retrainJob ? [`  retrain: ${out.retrainJob.note}`] : []),
        ].join('\n'),
      );
    });

  const schedules = program
    .command('schedules')
    .description('Temporal Schedules of drift checks and retrains');
  schedules
    .command('create <model>')
    .description(
      "create (or update) a model's schedules (drift check, champion monitor, backtest, 90-day backtest, retrain, report) from its monitoring policy, or a preset",
    )
    .option(
      '--preset <name>',
      "seeds: the arena seed's times (backtest daily 06:00, 90-day backtest Sundays 04:00, retrain Sundays 02:00, report daily 03:00, drift hourly, champion monitor every 15 minutes)",
    )
    .option('--timezone <tz>', "the preset's time zone (IANA, e.g. Europe/Berlin)", 'UTC')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { preset?: string; timezone: string; json?: boolean }) => {
      if (opts.preset !== undefined && opts.preset !== 'seeds')
        throw new InvalidInputError('--preset', opts.preset, 'must be seeds');
      const tz = timezoneProblem(opts.timezone);
      if (tz) throw new InvalidInputError('--timezone', opts.timezone, tz);
      const preset = opts.preset ? { name: 'seeds' as const, timezone: opts.timezone } : undefined;
      const list = await withTemporal(({ client, knex, taskQueue }) =>
        createModelSchedules(knex, { client, taskQueue }, { model, ...(preset ? { preset } : {}) }),
      );
      emit(opts.json, list, () =>
        list.map((s) => `${s.id}  ${s.every}  next ${s.nextRuns[0] ?? '—'}`).join('\n'),
      );
    });
  schedules
    .command('retention')
    .description(
      "create (or re-time) the deployment's retention schedule, arena-retention: drops the raw days every model has let go (arena db retention); daily at 03:30 UTC unless --cron says otherwise",
    )
    .option('--cron <expression>', 'five-field cron expression', RETENTION_CADENCE.cron)
    .option('--timezone <tz>', 'time zone of the cron expression (IANA)', 'UTC')
    .option('--json', 'machine-readable output')
    .action(async (opts: { cron: string; timezone: string; json?: boolean }) => {
      const tz = timezoneProblem(opts.timezone);
      if (tz) throw new InvalidInputError('--timezone', opts.timezone, tz);
      const cron = cronProblem(opts.cron, opts.timezone);
      if (cron) throw new InvalidInputError('--cron', opts.cron, cron);
      const s = await withTemporal(({ client, taskQueue }) =>
        createRetentionSchedule({ client, taskQueue }, { cron: opts.cron.trim(), timezone: opts.timezone }),
      );
      emit(opts.json, s, () => `${s.id}  ${opts.cron} ${opts.timezone}  next ${s.nextRuns[0] ?? '—'}`);
    });
  schedules
    .command('list')
    .option('--model <model>')
    .option('--json', 'machine-readable output')
    .action(async (opts: { model?: string; json?: boolean }) => {
      const list = (await withTemporal(({ client }) => listModelSchedules(client))).filter(
        (s) => !opts.model || s.model === opts.model,
      );
      emit(opts.json, list, () =>
        list.length
          ? list
              .map(
                (s) =>
                  `${s.id.padEnd(44)} every ${s.every.padEnd(9)} ${s.paused ? 'PAUSED' : 'active'}  next ${s.nextRuns[0] ?? '—'}${s.note ? `  (${s.note})` : ''}`,
              )
              .join('\n')
          : 'No schedules. Create them: arena schedules create MODEL',
      );
    });
  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const)
    schedules
      .command(`${name} <scheduleId>`)
      .option('--reason <text>', 'kept as the schedule’s note')
      .option('--by <who>')
      .option('--json', 'machine-readable output')
      .action(async (id: string, opts: { reason?: string; by?: string; json?: boolean }) => {
        if (!id.startsWith('arena-'))
          throw new UserFacingError(`${id} is not an Arena schedule`, 'List them: arena schedules list');
        const s = await withTemporal(({ client }) =>
          setSchedulePaused(
            client,
            id,
            paused,
            `${name}d by ${actor(opts.by)}${opts.reason ? `: ${opts.reason}` : ''}`,
          ),
        );
        emit(opts.json, s, () => `${s.id} ${s.paused ? 'paused' : 'resumed'}${s.note ? ` (${s.note})` : ''}`);
      });
}
