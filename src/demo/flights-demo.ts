import { randomBytes } from 'node:crypto';
import { localDay } from '../../examples/flights-model/data.js';
import { trainFlightsModel, type FlightsModelArtifact } from '../../examples/flights-model/model.js';
import { watchRollout } from '../cli/live-view.js';
import type { ArenaEnv } from '../config/env.js';
import type { Logger } from '../log.js';
import type { PolicyInput } from '../policy/policy.js';
import { registerVersion, setChampion } from '../registry/registry.js';
import { FINAL_STATES } from '../rollout/types.js';
import { getRouting } from '../routing/store.js';
import { startTraffic, type Traffic } from '../simulate/traffic.js';
import type { ArenaClient } from '../client/arena-client.js';
import type { Progress } from '../stack/progress.js';
import { startDemoStack, waitForState } from './demo-stack.js';
import { flightsReplay } from './flights-replay.js';

export interface FlightsDemoResult {
  example: 'flights';
  model: string;
  rolloutId: string;
  state: string;
  decision: string | null;
  /** Flights replayed through the router and the recorder (requests sent). */
  flights: number;
  /** Each version's accuracy over the replayed window, from its real probabilities (offline truth). */
  accuracy: { champion: number; challenger: number };
  /** The segments the gate found significantly worse at its decision, and those left on the champion. */
  worse: string[];
  excluded: string[];
  /** Each worse segment's accuracy per version over the whole replay (offline truth, to check the gate by). */
  worseAccuracy: Record<string, { champion: number; challenger: number }>;
  webUi: string | null;
  report: string | null;
  seconds: number;
}

/** Train on March and April 2001; replay May and June (1,021,053 flights), which neither version saw. */
const WINDOWS = {
  trainFrom: localDay('2001-03-01'),
  trainTo: localDay('2001-05-01'),
  replayFrom: localDay('2001-05-01'),
  replayTo: localDay('2001-07-01'),
};

const VERSIONS = {
  champion: { version: '1.0.0', featureSet: 'schedule', why: 'hour of departure and distance' },
  challenger: {
    version: '1.1.0',
    featureSet: 'schedule+airports',
    why: "adds origin, destination, day of week and the origin's delays over the previous hours",
  },
} as const;

/**
 * Shadow only: a delay prediction does not change whether the flight leaves late, so scoring the challenger
 * beside the champion on the same flights measures exactly what serving it would, with a paired comparison
 * per request (per segment too) that needs several times fewer flights than a split (docs/statistics.md).
 */
function flightsPolicy(shadowSeconds: number): PolicyInput {
  return {
    approval: { required: true, timeout: '5m', approvers: ['demo-approver'] },
    stages: [{ mode: 'shadow', duration: `${shadowSeconds}s` }],
    analysis: { interval: '2s', minSamples: 1000, maxExtension: '20s', tuningN: 20_000 },
    primaryMetric: {
      name: 'correct',
      direction: 'higher',
      minImprovement: 0,
      rollbackRelativeDegradation: 0.05,
    },
    guardrails: [
      { metric: 'error', max: 0.01, rollbackAbove: 0.05 },
      { metric: 'log_loss', maxRelativeIncrease: 0.05, rollbackRelativeIncrease: 0.2 },
    ],
    segments: { key: 'origin', top: 20, minSamples: 1000, onWorse: 'partial' },
    onInconclusive: 'rollback',
    // No watch: the replay is whole (sent and stored) before the decision, so nothing would reach a watch
    // window, and a watch with no data would pass on time having seen nothing. (A holdback would not fit
    // either: the airports a partial adoption pins to the previous champion would skew its split.)
    watch: { duration: '0s' },
  };
}

async function train(
  model: string,
  spec: (typeof VERSIONS)['champion' | 'challenger'],
): Promise<FlightsModelArtifact> {
  return trainFlightsModel({
    model,
    version: spec.version,
    featureSet: spec.featureSet,
    trainFrom: WINDOWS.trainFrom,
    trainTo: WINDOWS.trainTo,
    // A day of holdout for the artifact's own figures; the replay judges both on two whole months.
    holdoutFrom: WINDOWS.replayFrom,
    holdoutTo: WINDOWS.replayFrom + 86_400_000,
    // Every fourth of the 1M training flights, to keep the demo within its time: a smaller fit than
    // examples/flights-model's own runs (docs/flights-model.md), the same for both versions.
    sampleEvery: 4,
  });
}

/**
 * `npm run demo -- --example flights`: two real classifiers of flight delays (examples/flights-model) and
 * a million real flights replayed as live traffic through the router and the recorder, origin airport as
 * the segment. The challenger is more accurate overall, and less accurate at a few western airports; the
 * per-segment check finds them, and the rollout promotes it everywhere else (a partial adoption).
 */
export async function runFlightsDemo(opts: {
  env: ArenaEnv;
  log: Logger;
  progress: Progress;
  fast: boolean;
  out: (text: string) => void;
  stream?: NodeJS.WriteStream | undefined;
}): Promise<FlightsDemoResult | undefined> {
  const { out } = opts;
  const demo = await startDemoStack(opts);
  const { up, knex, arena, store } = demo;
  try {
    const model = `flight-delays-${randomBytes(2).toString('hex')}`;
    out(
      `\n=== Example "flights": a classifier promoted where it is better, kept off the airports where it is worse\n` +
        `    model ${model} predicts whether a flight leaves more than 15 minutes late (vega-datasets flights-3m.parquet)`,
    );
    const t0 = Date.now();
    const artifacts = {
      champion: await train(model, VERSIONS.champion),
      challenger: await train(model, VERSIONS.challenger),
    };
    out(`    trained both versions on March–April 2001 (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    for (const role of ['champion', 'challenger'] as const) {
      const artifact = artifacts[role];
      const stored = await store.put(JSON.stringify(artifact));
      await registerVersion(knex, {
        model,
        version: VERSIONS[role].version,
        actor: 'demo',
        artifactUri: stored.uri,
        artifactDigest: stored.digest,
        training: {
          dataSet: 'vega-datasets/data/flights-3m.parquet',
          featureSet: artifact.featureSet,
          window: artifact.trainWindow,
          dataSha256: artifact.trainingDataSha256,
        },
        metrics: { holdout: artifact.holdout },
        ...(role === 'challenger' ? { parentVersion: VERSIONS.champion.version } : {}),
      });
    }
    const champion = VERSIONS.champion.version;
    const challenger = VERSIONS.challenger.version;
    await setChampion(knex, { model, version: champion, actor: 'demo', reason: 'demo bootstrap' });
    const t1 = Date.now();
    const replay = await flightsReplay({
      artifacts: { [champion]: artifacts.champion, [challenger]: artifacts.challenger },
      from: WINDOWS.replayFrom,
      to: WINDOWS.replayTo,
      segmentByOrigin: true,
      shuffle: true,
    });
    const accuracy = { champion: replay.accuracy(champion), challenger: replay.accuracy(challenger) };
    const pctOf = (x: number): string => `${(x * 100).toFixed(1)}%`;
    out(
      `    champion   ${champion}: ${VERSIONS.champion.why}; accuracy over May–June ${pctOf(accuracy.champion)}\n` +
        `    challenger ${challenger}: ${VERSIONS.challenger.why}; accuracy over May–June ${pctOf(accuracy.challenger)}\n` +
        `    both versions scored ${replay.flights.toLocaleString('en-US')} flights of May–June 2001 (${((Date.now() - t1) / 1000).toFixed(0)} s)`,
    );
    // The whole replay within the shadow stage: every flight once, each scored by both versions.
    // Ingestion-bound: in shadow mode each flight is two predictions and an outcome paired across versions
    // and segments, and one recorder keeps up with about 7,000–9,700 flights/s on 2 cores (docs/flights-model.md).
    // The stage is long enough for the whole replay at 7,500/s; each flight is sent once.
    const rate = 9_000;
    const shadowSeconds = 136;
    const traffic = await startTraffic({
      databaseUrl: up.database.url,
      model,
      workload: replay,
      profiles: { [champion]: { noise: 0, latencyMs: 20 }, [challenger]: { noise: 0, latencyMs: 22 } },
      ratePerSecond: rate,
      feedbackDelayMs: 500,
      segmentKey: 'origin',
      limit: replay.flights,
    });
    out(
      `    replaying them as live traffic: ${rate.toLocaleString('en-US')} flights/s through the router (origin airport as the segment), whether each left late follows as feedback 0.5 s later`,
    );
    const started = Date.now();
    try {
      const { rolloutId, workflowId } = await arena.startRollout({
        model,
        challenger,
        policy: flightsPolicy(shadowSeconds),
        proposedBy: 'demo-data-scientist',
      });
      out(`    rollout ${rolloutId} proposed by demo-data-scientist`);
      await waitForState(arena, rolloutId, 'awaiting_approval', demo.interrupted);
      await arena.approve(rolloutId, {
        by: 'demo-approver',
        comment: 'approved automatically by the demo (a named demo approver, not a person)',
      });
      out('    approved by demo-approver (automatic, for the demo)\n');
      const holding = holdShadowForReplay(arena, rolloutId, traffic, replay.flights, demo.interrupted);
      const status = await watchRollout({
        arena,
        rolloutId,
        stream: opts.stream,
        write: out,
        indent: '    ',
        stop: demo.interrupted,
      });
      await holding;
      if (demo.interrupted()) {
        if (!FINAL_STATES.includes(status.state))
          await arena.abort(rolloutId, { by: 'demo', reason: 'demo interrupted' }).catch(() => undefined);
        return undefined;
      }
      await arena.result(rolloutId).catch(() => undefined);
      const { path, data } = await demo.writeReport(rolloutId);
      const decisive = [...data.analyses].reverse().find((a) => a.segments?.rows.length);
      const worse = decisive?.segments?.rows.filter((r) => r.worse).map((r) => r.segment) ?? [];
      // What the promotion pinned to the previous champion (a partial adoption), from the routing table.
      const pinned = (await getRouting(knex, model)).segmentOverrides.filter(
        (o) => o.key === 'origin' && o.version === champion,
      );
      return {
        example: 'flights',
        model,
        rolloutId,
        state: status.state,
        decision: status.decision,
        flights: traffic.sent(),
        accuracy,
        worse,
        excluded: pinned.map((o) => o.value),
        worseAccuracy: Object.fromEntries(
          worse.map((origin) => [
            origin,
            { champion: replay.accuracy(champion, origin), challenger: replay.accuracy(challenger, origin) },
          ]),
        ),
        webUi: demo.webUi(workflowId),
        report: path,
        seconds: Math.round((Date.now() - started) / 1000),
      };
    } finally {
      await traffic.stop();
    }
  } finally {
    await demo.close();
  }
}

/**
 * Ingestion sets the replay's pace, and a machine busier than planned (other work, a second test) sends
 * fewer flights a second: then the shadow stage would end before the replay, and judge the airports on
 * part of it. Near the stage's end with flights still to send, the rollout is paused (which moves the
 * stage's end by as long) until every flight is sent and stored, and resumed. Shown in the trail as a
 * pause by `demo`.
 */
async function holdShadowForReplay(
  arena: ArenaClient,
  rolloutId: string,
  traffic: Traffic,
  flights: number,
  interrupted: () => boolean,
): Promise<void> {
  const drained = (): boolean => traffic.sent() >= flights && traffic.recorder.stats().buffered === 0;
  while (!interrupted()) {
    const s = await arena.status(rolloutId).catch(() => undefined);
    if (!s || (s.state !== 'shadow' && s.state !== 'awaiting_approval')) return;
    const left = s.stage ? Date.parse(s.stage.endsAt) - Date.now() : Infinity;
    if (s.state === 'shadow' && left < 6_000 && !drained()) {
      await arena.pause(rolloutId, {
        by: 'demo',
        reason: `the replay is behind (${traffic.sent().toLocaleString('en-US')} of ${flights.toLocaleString('en-US')} flights): hold the shadow stage until it is sent and stored`,
      });
      while (!drained() && !interrupted()) await new Promise((r) => setTimeout(r, 500));
      await arena.resume(rolloutId, { by: 'demo', reason: 'replay sent and stored' });
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
