import type { Command } from 'commander';
import { ExperimentClient } from '../../client/experiment-client.js';
import {
  EXPERIMENT_DECISIONS,
  EXPERIMENT_TYPES,
  type ExperimentDecision,
  type ExperimentStatus,
} from '../../experiments/types.js';
import { InvalidInputError } from '../../errors.js';
import { actor } from '../database.js';
import { emit } from '../output.js';
import { decimalOption } from '../parse.js';
import { withTemporal } from '../temporal.js';

const withExperiments = <T>(fn: (c: ExperimentClient) => Promise<T>): Promise<T> =>
  withTemporal(({ client, knex, taskQueue }) =>
    fn(new ExperimentClient({ temporal: client, knex, taskQueue })),
  );

function render(s: ExperimentStatus): string {
  const lines = [
    `${s.experimentId}  ${s.name}  [${s.state}]  ${s.type}`,
    `hypothesis  ${s.hypothesis}${s.expectedImprovement !== null ? ` (expected ${(s.expectedImprovement * 100).toFixed(1)}%)` : ''}`,
    `proposer    ${s.proposer}${s.approver ? `; approver ${s.approver}` : ''}`,
    ...s.segments.map(
      (x) =>
        `segment     ${x.segment}: ${x.model} challenger ${x.challenger}${s.rollouts[x.segment] ? ` → rollout ${s.rollouts[x.segment]}` : ''}`,
    ),
  ];
  for (const r of s.results ?? [])
    lines.push(
      `result      ${r.segment}: ${r.metric} ${r.relative !== null ? `${(r.relative * 100).toFixed(1)}%` : 'n/a'} vs champion ${r.champion ?? '—'} (mean diff ${r.meanDifference?.toFixed(3) ?? '—'}, 95% CI ${r.ci ? `[${r.ci[0].toFixed(3)}, ${r.ci[1].toFixed(3)}]` : '—'}, n=${r.n})`,
    );
  if (s.decision)
    lines.push(`decision    ${s.decision} (${s.adopted.join(', ') || 'no segment'}): ${s.rationale}`);
  for (const h of s.history)
    lines.push(
      `  ${h.at.replace('T', ' ').slice(0, 19)} ${h.state} by ${h.by}${h.note ? `: ${h.note}` : ''}`,
    );
  return lines.join('\n');
}

function segmentsFrom(o: { model?: string; challenger?: string; segment?: string[] }) {
  if (o.segment?.length)
    return o.segment.map((text) => {
      const m = /^([^=]+)=([^:]+):(.+)$/.exec(text);
      if (!m) throw new InvalidInputError('--segment', text, 'must look like NAME=MODEL:VERSION');
      return { segment: m[1]!, model: m[2]!, challenger: m[3]! };
    });
  if (!o.model || !o.challenger)
    throw new InvalidInputError(
      '--model',
      o.model,
      'give --model and --challenger, or --segment NAME=MODEL:VERSION (repeatable)',
    );
  return [{ segment: o.model, model: o.model, challenger: o.challenger }];
}

export function registerExperiment(program: Command): void {
  const exp = program.command('experiment').description('experiments: propose, approve, shadow-test, decide');
  const collect = (v: string, prev: string[] = []) => [...prev, v];

  exp
    .command('propose <name>')
    .requiredOption('--hypothesis <text>')
    .option('--type <type>', EXPERIMENT_TYPES.join(', '), 'other')
    .option('--model <model>')
    .option('--challenger <version>')
    .option('--segment <NAME=MODEL:VERSION>', 'a segment of a segmented model (repeatable)', collect)
    .option('--expected-improvement <fraction>', 'e.g. 0.05 for 5%')
    .option('--by <who>')
    .option('--json', 'machine-readable output')
    .action(
      async (
        name: string,
        o: {
          hypothesis: string;
          type: string;
          model?: string;
          challenger?: string;
          segment?: string[];
          expectedImprovement?: string;
          by?: string;
          json?: boolean;
        },
      ) => {
        // The bounds the experiment client checks (a fraction: 0.05 is 5 %).
        const expected =
          o.expectedImprovement === undefined
            ? null
            : decimalOption('--expected-improvement', o.expectedImprovement, { min: -1, max: 10 });
        const out = await withExperiments((c) =>
          c.propose({
            name,
            hypothesis: o.hypothesis,
            type: o.type as (typeof EXPERIMENT_TYPES)[number],
            expectedImprovement: expected,
            proposer: actor(o.by),
            segments: segmentsFrom(o),
          }),
        );
        emit(
          o.json,
          out,
          () =>
            `Experiment ${out.experimentId} proposed; it needs an approver: arena experiment approve ${out.experimentId} --by WHO`,
        );
      },
    );

  for (const verb of ['approve', 'reject'] as const)
    exp
      .command(`${verb} <id>`)
      .option('--by <who>')
      .option('--comment <text>')
      .option('--json', 'machine-readable output')
      .action(async (id: string, o: { by?: string; comment?: string; json?: boolean }) => {
        const s = await withExperiments((c) =>
          c[verb](id, { by: actor(o.by), ...(o.comment ? { comment: o.comment } : {}) }),
        );
        emit(o.json, s, () => render(s));
      });

  exp
    .command('start <id>')
    .description('start the experiment: every segment’s challenger goes into shadow')
    .option('--by <who>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { by?: string; json?: boolean }) => {
      const s = await withExperiments((c) => c.start(id, { by: actor(o.by) }));
      emit(o.json, s, () => render(s));
    });

  exp
    .command('complete <id>')
    .requiredOption('--decision <decision>', EXPERIMENT_DECISIONS.join(', '))
    .option('--adopt <segment>', 'a segment to adopt (repeatable; partial_adopt)', collect)
    .requiredOption('--rationale <text>')
    .option('--by <who>')
    .option('--json', 'machine-readable output')
    .action(
      async (
        id: string,
        o: { decision: string; adopt?: string[]; rationale: string; by?: string; json?: boolean },
      ) => {
        if (!EXPERIMENT_DECISIONS.includes(o.decision as ExperimentDecision))
          throw new InvalidInputError(
            '--decision',
            o.decision,
            `must be one of ${EXPERIMENT_DECISIONS.join(', ')}`,
          );
        const s = await withExperiments((c) =>
          c.complete(id, {
            by: actor(o.by),
            decision: o.decision as ExperimentDecision,
            adopt: o.adopt ?? [],
            rationale: o.rationale,
          }),
        );
        emit(o.json, s, () => render(s));
      },
    );

  exp
    .command('show <id>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) => {
      const s = await withExperiments((c) => c.status(id));
      emit(o.json, s, () => render(s));
    });

  exp
    .command('list')
    .option('--status <status>')
    .option('--json', 'machine-readable output')
    .action(async (o: { status?: string; json?: boolean }) => {
      const list = await withExperiments((c) => c.list(o.status ? { status: o.status } : {}));
      emit(o.json, list, () =>
        list.length
          ? list
              .map(
                (e) =>
                  `${e.experimentId}  ${e.status.padEnd(15)} ${e.name}  by ${e.proposer}${e.decision ? `  → ${e.decision}` : ''}`,
              )
              .join('\n')
          : 'No experiments.',
      );
    });
}
