import type { Command } from 'commander';
import { approveAlert } from '../../alerts/alert-actions.js';
import {
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  alertStats,
  listAlerts,
  moveAlert,
  type Alert,
  type AlertSeverity,
  type AlertStatus,
} from '../../alerts/alert-store.js';
import { ArenaClient } from '../../client/arena-client.js';
import { InvalidInputError } from '../../errors.js';
import { actor, withKnex } from '../database.js';
import { emit } from '../output.js';
import { idOption, integerOption, sinceOption } from '../parse.js';
import { withTemporal } from '../temporal.js';

function listOf<T extends string>(
  field: string,
  text: string | undefined,
  allowed: readonly T[],
): T[] | undefined {
  if (!text) return undefined;
  const values = text.split(',').map((s) => s.trim());
  for (const v of values)
    if (!allowed.includes(v as T))
      throw new InvalidInputError(field, text, `${v} is not one of ${allowed.join(', ')}`);
  return values as T[];
}

function ids(texts: string[]): string[] {
  return texts.map((t) => idOption('id', t));
}

const line = (a: Alert): string =>
  `#${String(a.id).padEnd(5)} ${a.severity.padEnd(8)} ${a.status.padEnd(9)} ${a.type.padEnd(20)} ${a.createdAt.replace('T', ' ').slice(0, 19)}  ${a.title}${a.actionedBy ? `  (by ${a.actionedBy})` : ''}`;

export function registerAlerts(program: Command): void {
  const alerts = program.command('alerts').description('alerts that ask people for decisions');

  alerts
    .command('list')
    .option('--status <list>', `comma-separated: ${ALERT_STATUSES.join(', ')} (default: unread,read)`)
    .option('--severity <list>', `comma-separated: ${ALERT_SEVERITIES.join(', ')}`)
    .option('--type <type>')
    .option('--model <model>')
    .option('--since <when>', 'a duration ago (24h) or an ISO time')
    .option('--limit <n>', 'most recent first', '100')
    .option('--json', 'machine-readable output')
    .action(
      async (o: {
        status?: string;
        severity?: string;
        type?: string;
        model?: string;
        since?: string;
        limit: string;
        json?: boolean;
      }) => {
        const since = sinceOption('--since', o.since);
        const list = await withKnex((knex) =>
          listAlerts(knex, {
            status: listOf<AlertStatus>('--status', o.status, ALERT_STATUSES) ?? ['unread', 'read'],
            ...(o.severity
              ? { severity: listOf<AlertSeverity>('--severity', o.severity, ALERT_SEVERITIES)! }
              : {}),
            ...(o.type ? { type: o.type } : {}),
            ...(o.model ? { model: o.model } : {}),
            ...(since ? { since } : {}),
            limit: integerOption('--limit', o.limit, { min: 1, max: 10_000 }),
          }),
        );
        emit(o.json, list, () => (list.length ? list.map(line).join('\n') : 'No open alerts.'));
      },
    );

  alerts
    .command('stats')
    .description('unread and open alerts by severity')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const s = await withKnex((knex) => alertStats(knex));
      emit(
        o.json,
        s,
        () =>
          `unread: ${s.unread.critical} critical, ${s.unread.warning} warning, ${s.unread.info} info; open: ${s.open.critical + s.open.warning + s.open.info}; all: ${s.total}`,
      );
    });

  alerts
    .command('read <ids...>')
    .option('--by <who>')
    .option('--json', 'machine-readable output')
    .action(async (texts: string[], o: { by?: string; json?: boolean }) => {
      const moved = await withKnex(async (knex) => {
        const out: Alert[] = [];
        for (const id of ids(texts)) out.push(await moveAlert(knex, { id, to: 'read', actor: actor(o.by) }));
        return out;
      });
      emit(o.json, moved, () => moved.map(line).join('\n'));
    });

  alerts
    .command('dismiss <id>')
    .option('--by <who>')
    .option('--reason <text>')
    .option('--json', 'machine-readable output')
    .action(async (text: string, o: { by?: string; reason?: string; json?: boolean }) => {
      const [id] = ids([text]);
      const a = await withKnex((knex) =>
        moveAlert(knex, {
          id: id!,
          to: 'dismissed',
          actor: actor(o.by),
          ...(o.reason ? { reason: o.reason } : {}),
        }),
      );
      emit(o.json, a, () => line(a));
    });

  alerts
    .command('approve <id>')
    .description('approve what the alert asks for: the rollout gets the approval Update with your identity')
    .option('--by <who>')
    .option('--comment <text>')
    .option('--json', 'machine-readable output')
    .action(async (text: string, o: { by?: string; comment?: string; json?: boolean }) => {
      const [id] = ids([text]);
      const out = await withTemporal(({ client, knex, taskQueue }) =>
        approveAlert(knex, new ArenaClient({ temporal: client, knex, taskQueue }), {
          id: id!,
          by: actor(o.by),
          ...(o.comment ? { comment: o.comment } : {}),
          // The CLI is the approver's tool; the rollout's policy still decides who may approve.
          roles: ['approver'],
        }),
      );
      emit(
        o.json,
        out,
        () =>
          `${out.action} sent to ${out.rolloutId} (now ${out.state}); alert #${out.alert.id} actioned by ${out.alert.actionedBy}`,
      );
    });
}
