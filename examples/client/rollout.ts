/**
 * Driving Arena from your own code: start a rollout, approve it, follow it, and (optionally) abort it.
 *
 *   npm run arena -- dev up                      # the embedded stack
 *   npm run arena -- worker &                    # a worker (or any number of them)
 *   npx tsx examples/client/rollout.ts MODEL CHALLENGER [--abort]
 *
 * The model needs a champion and a registered challenger (arena model register / arena model champion),
 * and traffic to judge (your model servers through the router and recorder, or arena simulate).
 */
import { Client } from '@temporalio/client';
import { ArenaClient } from '../../src/client/arena-client.js';
import { loadEnv } from '../../src/config/env.js';
import { createKnex } from '../../src/db/knex.js';
import { resolveEndpoints } from '../../src/stack/endpoints.js';
import { connectClient, temporalTargetFromEnv } from '../../src/temporal/connection.js';

const [model, challenger] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!model || !challenger) {
  console.error('usage: npx tsx examples/client/rollout.ts MODEL CHALLENGER [--abort]');
  process.exit(2);
}

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
  const { rolloutId } = await arena.startRollout({
    model,
    challenger,
    proposedBy: 'example-script',
    // Any field left out takes the default policy (docs/policies.md); here the stages last seconds.
    policy: {
      stages: [
        { mode: 'shadow', duration: '30s' },
        { mode: 'canary', weight: 10, duration: '30s' },
      ],
      analysis: { interval: '5s', minSamples: 200 },
      watch: { duration: '30s' },
    },
  });
  console.log(`started ${rolloutId}`);
  await arena.approve(rolloutId, { by: 'example-approver', comment: 'approved by the example script' });

  if (process.argv.includes('--abort')) {
    await arena.abort(rolloutId, { by: 'example-script', reason: 'demonstrating a manual rollback' });
  }
  for (;;) {
    const s = await arena.status(rolloutId);
    console.log(
      `${new Date().toISOString()} ${s.state}${s.lastAnalysis ? ` — ${s.lastAnalysis.decision}: ${s.lastAnalysis.summary}` : ''}`,
    );
    if (['promoted', 'rolled_back', 'rejected', 'expired', 'aborted'].includes(s.state)) break;
    await new Promise((r) => setTimeout(r, 5000));
  }
} finally {
  await connection.close();
  await knex.destroy();
}
