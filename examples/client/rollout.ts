/**
 * Driving Arena from your own code: start a rollout, approve it, follow it, and (optionally) abort it.
 *
 *   npm run arena -- dev up                      # the embedded stack
 *   npm run arena -- worker &                    # a worker (or any number of them)
 *   npx tsx examples/client/rollout.ts MODEL CHALLENGER [--abort]
 *   npx tsx examples/client/rollout.ts MODEL CHALLENGER --start-only   # then operate it with `temporal`
 *
 * With --start-only the script starts the rollout, prints its workflow id and leaves the rest to people:
 * docs/temporal-cli.md approves, follows and aborts it with nothing but the `temporal` CLI.
 *
 * The model needs a champion and a registered challenger (arena model register / arena model champion),
 * and traffic to judge (your model servers through the router and recorder, or arena simulate).
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Client } from '@temporalio/client';
import { ArenaClient } from '../../src/client/arena-client.js';
import { loadEnv } from '../../src/config/env.js';
import { createKnex } from '../../src/db/knex.js';
import { parsePolicyText, type PolicyInput } from '../../src/policy/policy.js';
import { resolveEndpoints } from '../../src/stack/endpoints.js';
import { connectClient, temporalTargetFromEnv } from '../../src/temporal/connection.js';

const usage =
  'usage: npx tsx examples/client/rollout.ts MODEL CHALLENGER [--abort | --start-only] [--policy FILE] [--proposed-by WHO]';
const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    abort: { type: 'boolean' },
    'start-only': { type: 'boolean' },
    policy: { type: 'string' },
    'proposed-by': { type: 'string' },
  },
});
const [model, challenger] = positionals;
if (!model || !challenger || positionals.length > 2) {
  console.error(usage);
  process.exit(2);
}
const proposedBy = flags['proposed-by'] ?? 'example-script';
// Any field left out takes the default policy (docs/policies.md); the inline one's stages last seconds.
const policy: PolicyInput = flags.policy
  ? parsePolicyText(await readFile(flags.policy, 'utf8'), flags.policy)
  : {
      stages: [
        { mode: 'shadow', duration: '30s' },
        { mode: 'canary', weight: 10, duration: '30s' },
      ],
      analysis: { interval: '5s', minSamples: 200 },
      watch: { duration: '30s' },
    };

const env = loadEnv();
const endpoints = await resolveEndpoints(env);
const target = temporalTargetFromEnv(env, endpoints.temporal.address);
const connection = await connectClient(target);
const knex = createKnex(endpoints.database.url);
const arena = new ArenaClient({
  temporal: new Client({ connection, namespace: target.namespace }),
  knex,
  taskQueue: env.ARENA_TASK_QUEUE,
});

try {
  const { rolloutId, workflowId } = await arena.startRollout({
    model,
    challenger,
    proposedBy,
    policy,
  });
  console.log(`started ${rolloutId}`);
  if (flags['start-only']) {
    console.log(`workflow id: ${workflowId}`);
    console.log(
      `approve it: temporal workflow signal --workflow-id ${workflowId} --name approve --input '{"by":"carol"}'`,
    );
  } else {
    await arena.approve(rolloutId, { by: 'example-approver', comment: 'approved by the example script' });

    if (flags.abort) {
      await arena.abort(rolloutId, { by: proposedBy, reason: 'demonstrating a manual rollback' });
    }
    for (;;) {
      const s = await arena.status(rolloutId);
      console.log(
        `${new Date().toISOString()} ${s.state}${s.lastAnalysis ? ` — ${s.lastAnalysis.decision}: ${s.lastAnalysis.summary}` : ''}`,
      );
      if (['promoted', 'rolled_back', 'rejected', 'expired', 'aborted'].includes(s.state)) break;
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
} finally {
  await connection.close();
  await knex.destroy();
}
