import { randomBytes } from 'node:crypto';
import type { ArenaEnv } from '../config/env.js';
import type { Logger } from '../log.js';
import type { PolicyInput } from '../policy/policy.js';
import { registerVersion, setChampion } from '../registry/registry.js';
import { startTraffic, type VersionProfile } from '../simulate/traffic.js';
import type { Progress } from '../stack/progress.js';
import { watchRollout } from '../cli/live-view.js';
import type { ArtifactStore } from '../artifacts/store.js';
import { loadWeather, type WeatherDay } from '../../examples/weather-model/data.js';
import { trainWeatherModel, type WeatherModelArtifact } from '../../examples/weather-model/model.js';
import { decisiveAnalysis, type RolloutReportData } from '../report/rollout-report-data.js';
import { FINAL_STATES } from '../rollout/types.js';
import { startDemoStack, waitForState } from './demo-stack.js';
import { weatherReplay } from './weather-replay.js';

export type Scenario = 'promote' | 'rollback';

export interface DemoResult {
  scenario: Scenario;
  model: string;
  rolloutId: string;
  state: string;
  decision: string | null;
  /** Mean absolute error (°C) of each version's real forecasts over the replayed year. */
  mae: { champion: number; challenger: number };
  /** The primary metric per arm as the rollout's last analysis measured it from the recorded traffic. */
  measured: { metric: string; champion: number; challenger: number } | null;
  webUi: string | null;
  report: string | null;
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

/** The year both versions are judged on; neither saw it in training. */
const REPLAY = { from: '2015-01-01', to: '2015-12-31' } as const;

/** Two real versions that differ for a real reason: the challenger knows yesterday's weather and one more year. */
const VERSIONS = {
  champion: {
    version: '1.0.0',
    featureSet: 'seasonal',
    trainFrom: '2012-01-01',
    trainTo: '2013-12-31',
    why: 'seasonal curve only, trained on 2012–2013',
  },
  challenger: {
    version: '1.1.0',
    featureSet: 'seasonal+lags',
    trainFrom: '2012-01-01',
    trainTo: '2014-12-31',
    why: "adds yesterday's weather, trained on 2012–2014",
  },
} as const;

interface ScenarioSpec {
  title: string;
  /** Registered version of the challenger, and the trained version whose artifact serves it. */
  challenger: string;
  serving: Record<'champion' | 'challenger', VersionProfile>;
}

const SCENARIOS: Record<Scenario, ScenarioSpec> = {
  promote: {
    title: 'the better forecaster goes through shadow and both canaries and is promoted',
    challenger: '1.1.0',
    serving: { champion: { noise: 0, latencyMs: 40 }, challenger: { noise: 0, latencyMs: 42 } },
  },
  rollback: {
    title:
      'the same better forecaster in a broken serving build (8% errors, 3× latency) is rolled back automatically',
    challenger: '1.1.1',
    serving: {
      champion: { noise: 0, latencyMs: 40 },
      challenger: { noise: 0, errorRate: 0.08, latencyMs: 120 },
    },
  },
};

/** Trains both versions on the real data set and stores their artifacts by content. */
async function trainVersions(
  model: string,
  store: ArtifactStore,
): Promise<{
  days: WeatherDay[];
  trained: Record<'champion' | 'challenger', { artifact: WeatherModelArtifact; uri: string; digest: string }>;
}> {
  const { days } = loadWeather();
  const train = async (spec: (typeof VERSIONS)['champion' | 'challenger']) => {
    const artifact = trainWeatherModel(days, {
      model,
      version: spec.version,
      featureSet: spec.featureSet,
      trainFrom: spec.trainFrom,
      trainTo: spec.trainTo,
      holdoutFrom: REPLAY.from,
      holdoutTo: REPLAY.to,
    });
    return { artifact, ...(await store.put(JSON.stringify(artifact))) };
  };
  return {
    days,
    trained: { champion: await train(VERSIONS.champion), challenger: await train(VERSIONS.challenger) },
  };
}

/**
 * `npm run demo`: the embedded stack, a worker in this process, and rollouts of a real forecasting model
 * (examples/weather-model, trained on Seattle's weather) driven by the real data replayed as live traffic
 * through the router and the recorder, with a live view. Everything it started stops on exit or Ctrl-C.
 */
export async function runDemo(opts: {
  env: ArenaEnv;
  log: Logger;
  progress: Progress;
  scenarios: Scenario[];
  fast: boolean;
  out: (text: string) => void;
  /** The terminal, for the in-place live view; absent → plain lines. */
  stream?: NodeJS.WriteStream | undefined;
}): Promise<DemoResult[]> {
  const { out } = opts;
  const demo = await startDemoStack(opts);
  const { up, knex, arena, store } = demo;
  const interrupted = demo.interrupted;
  const results: DemoResult[] = [];
  try {
    for (const scenario of opts.scenarios) {
      if (interrupted()) break;
      const spec = SCENARIOS[scenario];
      const model = `seattle-temp-${scenario}-${randomBytes(2).toString('hex')}`;
      const { days, trained } = await trainVersions(model, store);
      const champion = VERSIONS.champion.version;
      out(
        `\n=== Scenario "${scenario}": ${spec.title}\n` +
          `    model ${model} forecasts tomorrow's maximum temperature in Seattle (vega-datasets seattle-weather.csv)\n` +
          `    champion   ${champion}: ${VERSIONS.champion.why}; 2015 holdout MAE ${trained.champion.artifact.holdout.mae.toFixed(2)} °C\n` +
          `    challenger ${spec.challenger}: ${VERSIONS.challenger.why}; 2015 holdout MAE ${trained.challenger.artifact.holdout.mae.toFixed(2)} °C` +
          (spec.challenger !== VERSIONS.challenger.version ? ' (served by a faulty build)' : ''),
      );
      const register = async (
        version: string,
        t: (typeof trained)['champion'],
        extra: { parentVersion?: string; note?: string } = {},
      ) =>
        registerVersion(knex, {
          model,
          version,
          actor: 'demo',
          artifactUri: t.uri,
          artifactDigest: t.digest,
          training: {
            dataSet: 'vega-datasets/data/seattle-weather.csv',
            featureSet: t.artifact.featureSet,
            window: t.artifact.trainWindow,
            dataSha256: t.artifact.trainingDataSha256,
            ...(extra.note ? { note: extra.note } : {}),
          },
          metrics: { holdout: t.artifact.holdout },
          ...(extra.parentVersion ? { parentVersion: extra.parentVersion } : {}),
        });
      await register(champion, trained.champion);
      await register(spec.challenger, trained.challenger, {
        parentVersion: champion,
        ...(spec.challenger !== VERSIONS.challenger.version
          ? { note: 'the 1.1.0 model in a serving build that fails and is slow' }
          : {}),
      });
      await setChampion(knex, { model, version: champion, actor: 'demo', reason: 'demo bootstrap' });
      const replay = weatherReplay({
        days,
        ...REPLAY,
        artifacts: { [champion]: trained.champion.artifact, [spec.challenger]: trained.challenger.artifact },
      });
      const traffic = await startTraffic({
        databaseUrl: up.database.url,
        model,
        workload: replay,
        profiles: { [champion]: spec.serving.champion, [spec.challenger]: spec.serving.challenger },
        ratePerSecond: 300,
        feedbackDelayMs: 500,
      });
      out(
        `    replaying ${replay.dates.length} days of 2015 as live traffic (300 requests/s through the router; the observed temperature follows as feedback 0.5 s later)`,
      );
      const started = Date.now();
      try {
        const { rolloutId, workflowId } = await arena.startRollout({
          model,
          challenger: spec.challenger,
          policy: demoPolicy(opts.fast),
          proposedBy: 'demo-data-scientist',
        });
        out(`    rollout ${rolloutId} proposed by demo-data-scientist`);
        await waitForState(arena, rolloutId, 'awaiting_approval', interrupted);
        await arena.approve(rolloutId, {
          by: 'demo-approver',
          comment: 'approved automatically by the demo (a named demo approver, not a person)',
        });
        out('    approved by demo-approver (automatic, for the demo)\n');
        const status = await watchRollout({
          arena,
          rolloutId,
          stream: opts.stream,
          write: out,
          indent: '    ',
          stop: interrupted,
        });
        if (interrupted() && !FINAL_STATES.includes(status.state))
          await arena.abort(rolloutId, { by: 'demo', reason: 'demo interrupted' }).catch(() => undefined);
        let report: string | null = null;
        let primary: NonNullable<RolloutReportData['analyses'][number]['primary']> | null = null;
        if (!interrupted()) {
          // The workflow's final records land just after its state does; the report wants them all.
          await arena.result(rolloutId).catch(() => undefined);
          const written = await demo.writeReport(rolloutId);
          report = written.path;
          primary = decisiveAnalysis(written.data)?.primary ?? null;
        }
        results.push({
          scenario,
          model,
          rolloutId,
          state: status.state,
          decision: status.decision,
          mae: { champion: replay.mae(champion), challenger: replay.mae(spec.challenger) },
          measured: primary
            ? {
                metric: primary.metric,
                champion: primary.champion,
                challenger: primary.challenger,
              }
            : null,
          webUi: demo.webUi(workflowId),
          report,
          seconds: Math.round((Date.now() - started) / 1000),
        });
      } finally {
        await traffic.stop();
      }
    }
  } finally {
    await demo.close();
  }
  return results;
}
