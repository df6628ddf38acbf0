import type { Command } from 'commander';
import { InvalidInputError } from '../../errors.js';
import { parseVersion } from '../../registry/version.js';
import { changeRouting, getRouting, type RoutingChange } from '../../routing/store.js';
import {
  decide,
  ROUTING_MODES,
  type RoutingEntry,
  type RoutingMode,
  type SegmentOverride,
} from '../../routing/table.js';
import { actor, withKnex } from '../database.js';
import { emit } from '../output.js';
import { keyValue, percentToBasisPoints } from '../parse.js';
import { percentOf } from '../../routing/weight.js';

/** The JSON shape of DESIGN.md §7 for `arena routing show`. */
export function routingJson(entry: RoutingEntry) {
  return {
    model: entry.model,
    champion: entry.champion,
    challenger: entry.challenger,
    mode: entry.mode,
    weightBp: entry.weightBp,
    shadow: entry.shadow,
    segmentOverrides: entry.segmentOverrides,
    salt: entry.salt,
    generation: entry.generation,
  };
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function parseOverride(text: string): SegmentOverride {
  const at = text.lastIndexOf('@');
  if (at <= 0)
    throw new InvalidInputError('--override', text, 'must look like KEY=VALUE@VERSION, e.g. store=42@1.2.0');
  const { key, value } = keyValue('--override', text.slice(0, at));
  return { key, value, version: parseVersion(text.slice(at + 1), '--override').version };
}

export function registerRouting(program: Command): void {
  const routing = program.command('routing').description("a model's routing table row");

  routing
    .command('show <model>')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { json?: boolean }) => {
      const entry = await withKnex((knex) => getRouting(knex, model));
      emit(opts.json, routingJson(entry), () =>
        [
          `${entry.model} (generation ${entry.generation}, salt ${entry.salt})`,
          `  champion   ${entry.champion ?? '-'}`,
          `  challenger ${entry.challenger ?? '-'}  mode ${entry.mode}  weight ${percentOf(entry.weightBp)}%`,
          `  shadow     ${entry.shadow.join(', ') || '-'}`,
          ...entry.segmentOverrides.map((o) => `  override   ${o.key}=${o.value} → ${o.version}`),
        ].join('\n'),
      );
    });

  routing
    .command('set <model>')
    .description("the operator's manual override of a model's routing (audited, announced to every router)")
    .option('--challenger <version>', 'the challenger version ("none" to clear)')
    .option('--mode <mode>', `one of ${ROUTING_MODES.join(', ')}`)
    .option('--weight <percent>', 'challenger share in canary mode, 0–100')
    .option('--shadow <version>', 'an extra shadow version (repeatable)', collect)
    .option('--no-shadow-versions', 'clear the extra shadow versions')
    .option('--override <key=value@version>', 'pin a segment to a version (repeatable)', collect)
    .option('--clear-overrides', 'remove all segment overrides')
    .option('--by <who>', 'actor recorded in the audit log')
    .option('--reason <text>', 'why')
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string,
        opts: {
          challenger?: string;
          mode?: string;
          weight?: string;
          shadow?: string[];
          shadowVersions?: boolean;
          override?: string[];
          clearOverrides?: boolean;
          by?: string;
          reason?: string;
          json?: boolean;
        },
      ) => {
        const change: RoutingChange = {};
        if (opts.challenger !== undefined)
          change.challenger =
            opts.challenger === 'none' ? null : parseVersion(opts.challenger, '--challenger').version;
        if (opts.mode !== undefined) {
          if (!(ROUTING_MODES as readonly string[]).includes(opts.mode)) {
            throw new InvalidInputError('--mode', opts.mode, `must be one of ${ROUTING_MODES.join(', ')}`);
          }
          change.mode = opts.mode as RoutingMode;
        }
        if (opts.weight !== undefined) change.weightBp = percentToBasisPoints('--weight', opts.weight);
        if (opts.shadow) change.shadow = opts.shadow.map((v) => parseVersion(v, '--shadow').version);
        if (opts.shadowVersions === false) change.shadow = [];
        if (opts.override) change.segmentOverrides = opts.override.map(parseOverride);
        if (opts.clearOverrides) change.segmentOverrides = [];
        if (Object.keys(change).length === 0) {
          throw new InvalidInputError(
            'options',
            '',
            'nothing to change',
            'Pass at least one of --challenger, --mode, --weight, --shadow, --override.',
          );
        }
        const entry = await withKnex((knex) =>
          changeRouting(knex, {
            model,
            change,
            actor: actor(opts.by),
            ...(opts.reason ? { reason: opts.reason } : {}),
          }),
        );
        emit(
          opts.json,
          routingJson(entry),
          () =>
            `${model}: generation ${entry.generation} — ${entry.mode}, challenger ${entry.challenger ?? '-'} at ${percentOf(entry.weightBp)}%`,
        );
      },
    );
}

export function registerRoute(program: Command): void {
  program
    .command('route <model> <requestId>')
    .description('which version serves a request (the same decision every router makes)')
    .option('--unit <unit>', 'unit id (user, store, session); defaults to the request id')
    .option('--segment <key=value>', 'segment of the request, for overrides (repeatable)', collect)
    .option('--json', 'machine-readable output')
    .action(
      async (
        model: string,
        requestId: string,
        opts: { unit?: string; segment?: string[]; json?: boolean },
      ) => {
        const entry = await withKnex((knex) => getRouting(knex, model));
        const segments = Object.fromEntries(
          (opts.segment ?? []).map((s) => keyValue('--segment', s)).map((kv) => [kv.key, kv.value]),
        );
        const decision = decide(entry, requestId, { unit: opts.unit, segments });
        emit(
          opts.json,
          decision,
          () =>
            `${model} ${requestId}: serve ${decision.serve} (${decision.via}, bucket ${decision.bucket}, generation ${decision.generation})${decision.shadow.length ? `; shadow ${decision.shadow.join(', ')}` : ''}`,
        );
      },
    );
}
