import { randomBytes } from 'node:crypto';
import { Client } from '@temporalio/client';
import { ArenaClient } from '../client/arena-client.js';
import type { ArenaEnv } from '../config/env.js';
import { createKnex } from '../db/knex.js';
import type { Logger } from '../log.js';
import type { PolicyInput } from '../policy/policy.js';
import { registerVersion, setChampion } from '../registry/registry.js';
import type { RolloutStatus } from '../rollout/types.js';
import { startTraffic, type VersionProfile } from '../simulate/traffic.js';
import { ensureStack, stopStarted } from '../stack/index.js';
import type { Progress } from '../stack/progress.js';
import { connectClient, connectWorker, temporalTargetFromEnv } from '../temporal/connection.js';
import { createWorker } from '../worker/create-worker.js';
import { renderStatus } from '../cli/rollout-view.js';

export type Scenario = 'promote' | 'rollback';

export interface DemoResult {
  scenario: Scenario;
  model: string;
  rolloutId: string;
  state: string;
  decision: string | null;
  webUi: string | null;
  seconds: number;
}

/** The demo's lifecycle: the default policy's shape with seconds instead of days. */
function demoPolicy(fast: boolean): PolicyInput {
  const s = (n: number): string => `${fast ? Math.max(2, Math.round(n / 2)) : n}s`;
  return {
    approval: { required: true, timeout: '5m', approvers: ['demo-approver'] },
    stages: [
      { mode: 'shadow', duration: s(8) },
      { mode: 'canary', weight: 5, duration: s(8) },
      { mode: 'canary', weight: 50, duration: s(8) },
    ],
    analysis: { interval: '1s', minSamples: 100, maxExtension: s(10), alpha: 0.05, tuningN: 2000 },
    primaryMetric: {
      name: 'abs_error',
      direction: 'lower',
      minImprovement: 0.02,
      rollbackRelativeDegradation: 0.05,
    },
    guardrails: [
      { metric: 'error', max: 0.01, rollbackAbove: 0.05 },
      { metric: 'latency_ms', quantile: 0.95, max: 500, rollbackRelativeIncrease: 1.0 },
    ],
    onInconclusive: 'rollback',
    watch: { duration: s(6), rollbackOnRelativeDegradation: 0.1 },
  };
}

const SCENARIOS: Record<
  Scenario,
  { title: string; champion: [string, VersionProfile]; challenger: [string, VersionProfile] }
> = {
  promote: {
    title: 'a better challenger (MAE −20%) goes through shadow and both canaries and is promoted',
    champion: ['1.0.0', { noise: 12, latencyMs: 40 }],
    challenger: ['1.1.0', { noise: 9.6, latencyMs: 42 }],
  },
  rollback: {
    title: 'a faulty challenger (8% errors, 3× latency) is rolled back automatically during the canary',
    champion: ['1.0.0', { noise: 12, latencyMs: 40 }],
    challenger: ['1.2.0', { noise: 11, errorRate: 0.08, latencyMs: 120 }],
  },
};

/**
 * `npm run demo`: the embedded stack, a worker in this process, and rollouts driven by synthetic traffic
 * through the real router and recorder, with a live view. Everything it started stops on exit or Ctrl-C.
 */
export async function runDemo(opts: {
  env: ArenaEnv;
  log: Logger;
  progress: Progress;
  scenarios: Scenario[];
  fast: boolean;
  out: (text: string) => void;
}): Promise<DemoResult[]> {
  const { env, log, out } = opts;
  const up = await ensureStack({ env, log, progress: opts.progress });
  const knex = createKnex(up.database.url, { max: 4 });
  const target = temporalTargetFromEnv(env, up.temporal.address);
  const connection = await connectClient(target);
  const nativeConnection = await connectWorker(target);
  const taskQueue = `arena-demo-${randomBytes(3).toString('hex')}`;
  const worker = await createWorker({
    connection: nativeConnection,
    namespace: target.namespace,
    taskQueue,
    knex,
    log,
    rollupBucketMs: 1000,
  });
  const running = worker.run();
  const arena = new ArenaClient({
    temporal: new Client({ connection, namespace: target.namespace }),
    knex,
    taskQueue,
  });
  const results: DemoResult[] = [];
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    out('\nInterrupted: stopping what the demo started…');
  };
  process.once('SIGINT', onSigint);
  try {
    for (const scenario of opts.scenarios) {
      if (interrupted) break;
      const spec = SCENARIOS[scenario];
      const model = `demo-forecast-${scenario}-${randomBytes(2).toString('hex')}`;
      out(
        `\n=== Scenario "${scenario}": ${spec.title}\n    model ${model}: champion ${spec.champion[0]}, challenger ${spec.challenger[0]}`,
      );
      await registerVersion(knex, {
        model,
        version: spec.champion[0],
        actor: 'demo',
        metrics: { note: 'synthetic profile' },
      });
      await registerVersion(knex, {
        model,
        version: spec.challenger[0],
        actor: 'demo',
        parentVersion: spec.champion[0],
      });
      await setChampion(knex, { model, version: spec.champion[0], actor: 'demo', reason: 'demo bootstrap' });
      const traffic = await startTraffic({
        databaseUrl: up.database.url,
        model,
        profiles: Object.fromEntries([spec.champion, spec.challenger]),
        ratePerSecond: 300,
        feedbackDelayMs: 500,
      });
      const started = Date.now();
      try {
        const { rolloutId, workflowId } = await arena.startRollout({
          model,
          challenger: spec.challenger[0],
          policy: demoPolicy(opts.fast),
          proposedBy: 'demo-data-scientist',
        });
        out(`    rollout ${rolloutId} proposed by demo-data-scientist`);
        await waitForState(arena, rolloutId, 'awaiting_approval', () => interrupted);
        await arena.approve(rolloutId, {
          by: 'demo-approver',
          comment: 'approved automatically by the demo (a named demo approver, not a person)',
        });
        out('    approved by demo-approver (automatic, for the demo)\n');
        let last = '';
        let status: RolloutStatus;
        for (;;) {
          status = await arena.status(rolloutId);
          const view = renderStatus(status);
          if (view !== last) {
            out(
              view
                .split('\n')
                .map((l) => `    ${l}`)
                .join('\n') + '\n',
            );
            last = view;
          }
          if (['promoted', 'rolled_back', 'rejected', 'expired', 'aborted'].includes(status.state)) break;
          if (interrupted) {
            await arena.abort(rolloutId, { by: 'demo', reason: 'demo interrupted' }).catch(() => undefined);
            break;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
        results.push({
          scenario,
          model,
          rolloutId,
          state: status.state,
          decision: status.decision,
          webUi: up.temporal.ui
            ? `${up.temporal.ui}/namespaces/${target.namespace}/workflows/${encodeURIComponent(workflowId)}`
            : null,
          seconds: Math.round((Date.now() - started) / 1000),
        });
      } finally {
        await traffic.stop();
      }
    }
  } finally {
    process.off('SIGINT', onSigint);
    worker.shutdown();
    await running;
    await nativeConnection.close();
    await connection.close();
    await knex.destroy();
    if (interrupted) await stopStarted(up.started);
  }
  return results;
}

async function waitForState(
  arena: ArenaClient,
  rolloutId: string,
  state: string,
  interrupted: () => boolean,
): Promise<void> {
  for (let i = 0; i < 300 && !interrupted(); i++) {
    if ((await arena.status(rolloutId).catch(() => undefined))?.state === state) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
