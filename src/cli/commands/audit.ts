import type { Command } from 'commander';
import { readAuditLog } from '../../audit/audit-log.js';
import { verifyAuditChain } from '../../db/audit.js';
import { withKnex } from '../database.js';
import { emit } from '../output.js';
import { integerOption, sinceOption } from '../parse.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit ledger');

  audit
    .command('verify')
    .description('walk the hash chain and report the first row that was edited or removed')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const result = await withKnex((knex) => verifyAuditChain(knex));
      emit(opts.json, result, () =>
        result.ok
          ? `Audit ledger intact: ${result.checked} rows verified.`
          : [
              `Audit ledger BROKEN at row ${result.firstBad!.id} (${result.checked} rows before it verify):`,
              `  ${result.firstBad!.reason}`,
              `Inspect it: select * from audit_log where id = ${result.firstBad!.id}; restore the ledger from a backup and find who changed it.`,
            ].join('\n'),
      );
      if (!result.ok) process.exitCode = 1;
    });

  audit
    .command('log')
    .description('who did what, on which evidence: the ledger, oldest first')
    .option('--model <model>', 'only rows about this model (its versions, routing and rollouts)')
    .option('--since <when>', 'a duration ago (24h, 7d) or an ISO time')
    .option('--entity <type>', 'only this entity type (model, model_version, routing, rollout, …)')
    .option('--actor <who>', 'only this actor')
    .option('--limit <n>', 'at most this many rows', '1000')
    .option('--json', 'machine-readable output')
    .action(
      async (opts: {
        model?: string;
        since?: string;
        entity?: string;
        actor?: string;
        limit: string;
        json?: boolean;
      }) => {
        const limit = integerOption('--limit', opts.limit, { min: 1, max: 1_000_000 });
        const since = sinceOption('--since', opts.since);
        const rows = await withKnex((knex) =>
          readAuditLog(knex, {
            limit,
            ...(opts.model ? { model: opts.model } : {}),
            ...(since ? { since } : {}),
            ...(opts.entity ? { entityType: opts.entity } : {}),
            ...(opts.actor ? { actor: opts.actor } : {}),
          }),
        );
        emit(opts.json, rows, () =>
          rows.length === 0
            ? 'No audit rows match.'
            : rows
                .map(
                  (r) =>
                    `#${r.id} ${r.at.replace('T', ' ').slice(0, 19)}  ${r.actor.padEnd(16)} ${r.action.padEnd(28)} ${r.entity}${r.evidence ? `\n      ${r.evidence}` : ''}`,
                )
                .join('\n'),
        );
      },
    );
}
