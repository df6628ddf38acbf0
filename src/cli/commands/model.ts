import { undoChampion } from '../../registry/undo.js';
import type { Command } from 'commander';
import { listModels, registerVersion, setChampion, showModel } from '../../registry/registry.js';
import { InvalidInputError } from '../../errors.js';
import { championAt, routingAt } from '../../routing/store.js';
import { modelHealth } from '../../health/model-health.js';
import { actor, withKnex } from '../database.js';
import { renderHealth } from '../health-view.js';
import { emit } from '../output.js';
import { jsonObjectOption } from '../parse.js';
import { routingJson } from './routing.js';
import { percentOf } from '../../routing/weight.js';

export function registerModel(program: Command): void {
  const model = program.command('model').description('the model registry');

  model
    .command('register <model> <version>')
    .description(
      'register a model version as a candidate (idempotent; a different re-registration is a conflict)',
    )
    .option('--artifact <uri>', 'where the artifact lives (file://, s3://, …)')
    .option('--digest <sha256>', 'SHA-256 of the artifact')
    .option('--metrics <json>', 'offline metrics, a JSON object')
    .option('--training <json>', 'training metadata, a JSON object (data window, data hash, parameters)')
    .option('--parent <version>', 'the version this one was derived from')
    .option('--description <text>', 'model description (first registration only)')
    .option('--by <who>', 'actor recorded in the audit log')
    .option('--json', 'machine-readable output')
    .action(
      async (
        name: string,
        version: string,
        opts: {
          artifact?: string;
          digest?: string;
          metrics?: string;
          training?: string;
          parent?: string;
          description?: string;
          by?: string;
          json?: boolean;
        },
      ) => {
        const result = await withKnex((knex) =>
          registerVersion(knex, {
            model: name,
            version,
            actor: actor(opts.by),
            ...(opts.artifact ? { artifactUri: opts.artifact } : {}),
            ...(opts.digest ? { artifactDigest: opts.digest } : {}),
            ...(opts.metrics ? { metrics: jsonObjectOption('--metrics', opts.metrics)! } : {}),
            ...(opts.training ? { training: jsonObjectOption('--training', opts.training)! } : {}),
            ...(opts.parent ? { parentVersion: opts.parent } : {}),
            ...(opts.description ? { description: opts.description } : {}),
          }),
        );
        const v = result.version;
        emit(
          opts.json,
          { model: v.model, version: v.version, status: v.status, created: result.created },
          () =>
            result.created
              ? `Registered ${v.model}@${v.version} (${v.status})`
              : `${v.model}@${v.version} was already registered with the same details`,
        );
      },
    );

  model
    .command('list')
    .description('list models with their champion and challenger')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const models = await withKnex((knex) => listModels(knex));
      emit(opts.json, models, () =>
        models.length === 0
          ? 'No models registered. Register one: arena model register MODEL VERSION'
          : models
              .map(
                (m) =>
                  `${m.model.padEnd(24)} champion ${m.champion ?? '-'}  challenger ${m.challenger ?? '-'} (${m.mode})  ${m.versions} versions`,
              )
              .join('\n'),
      );
    });

  model
    .command('show <model>')
    .description('versions, statuses and routing of a model')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { json?: boolean }) => {
      const shown = await withKnex((knex) => showModel(knex, name));
      emit(
        opts.json,
        { model: shown.model, routing: routingJson(shown.routing), versions: shown.versions },
        () =>
          [
            `${shown.model}: champion ${shown.routing.champion ?? '-'}, challenger ${shown.routing.challenger ?? '-'} (${shown.routing.mode}, ${percentOf(shown.routing.weightBp)}%), generation ${shown.routing.generation}`,
            ...shown.versions.map(
              (v) =>
                `  ${v.version.padEnd(28)} ${v.status.padEnd(10)} ${v.promotedAt ? `promoted ${v.promotedAt.toISOString().slice(0, 16).replace('T', ' ')}Z  ` : ''}${v.artifactUri ?? ''}`,
            ),
          ].join('\n'),
      );
    });

  model
    .command('champion <model> <version>')
    .description("make a version the champion now (bootstrap, or an operator's emergency override); audited")
    .option('--by <who>', 'actor recorded in the audit log')
    .option('--reason <text>', 'why')
    .option('--json', 'machine-readable output')
    .action(async (name: string, version: string, opts: { by?: string; reason?: string; json?: boolean }) => {
      const entry = await withKnex((knex) =>
        setChampion(knex, {
          model: name,
          version,
          actor: actor(opts.by),
          ...(opts.reason ? { reason: opts.reason } : {}),
        }),
      );
      emit(
        opts.json,
        routingJson(entry),
        () => `${name}: champion is now ${entry.champion} (generation ${entry.generation})`,
      );
    });

  model
    .command('undo <model>')
    .description(
      'restore the champion before the current one (or --to VERSION) in one step; the current one is archived; audited',
    )
    .option('--to <version>', 'the version to restore (default: the previous champion)')
    .option('--by <who>', 'actor recorded in the audit log')
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { to?: string; by?: string; reason: string; json?: boolean }) => {
      const undone = await withKnex((knex) =>
        undoChampion(knex, {
          model: name,
          ...(opts.to ? { to: opts.to } : {}),
          actor: actor(opts.by),
          reason: opts.reason,
        }),
      );
      emit(
        opts.json,
        { from: undone.from, to: undone.to, routing: routingJson(undone.routing) },
        () =>
          `${name}: champion ${undone.from} → ${undone.to} (generation ${undone.routing.generation}); ${undone.from} is archived and can be rolled out again`,
      );
    });

  model
    .command('health <model>')
    .description(
      'one screen for on-call: champion and challenger trends, promotion eligibility, backtest, alerts',
    )
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { json?: boolean }) => {
      const health = await withKnex((knex) => modelHealth(knex, name));
      emit(opts.json, health, () => renderHealth(health));
    });

  model
    .command('champion-at <model> <time>')
    .description('which version was champion (and what the routing was) at a point in time')
    .option('--json', 'machine-readable output')
    .action(async (name: string, time: string, opts: { json?: boolean }) => {
      const at = new Date(time);
      if (Number.isNaN(at.getTime()))
        throw new InvalidInputError(
          'time',
          time,
          'not a date/time (use ISO 8601, e.g. 2026-11-01T12:00:00Z)',
        );
      const [champion, routing] = await withKnex(
        async (knex) => [await championAt(knex, name, at), await routingAt(knex, name, at)] as const,
      );
      emit(
        opts.json,
        {
          model: name,
          at: at.toISOString(),
          champion,
          routing: routing ? { ...routingJson(routing), since: routing.since } : null,
        },
        () =>
          routing
            ? `${name} at ${at.toISOString()}: champion ${champion ?? '(none)'} (routing generation ${routing.generation} since ${routing.since.toISOString()})`
            : `${name} did not exist at ${at.toISOString()}`,
      );
    });
}
