import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { parseBacktestConfig, type BacktestConfig } from '../src/backtest/config.js';
import { upsertBacktestResults } from '../src/backtest/result-store.js';
import {
  backtestWindows,
  trendOf,
  type BacktestWindow,
  type DailyForecast,
} from '../src/backtest/windows.js';
import { modelMetadata } from '../src/registry/model-store.js';
import { getVersion } from '../src/registry/registry.js';
import { tryCreateRetrainJob } from '../src/retrain/job-request.js';
import { fillCommand } from '../src/retrain/training-config.js';
import type { RetrainInput } from '../src/retrain/types.js';
import { getRouting } from '../src/routing/store.js';
import { runProcessJob } from '../src/training/process-job.js';
import type { ActivityDeps } from './deps.js';

export interface BacktestOutcome {
  model: string;
  version: string;
  asOf: string;
  windows: BacktestWindow[];
  trend: ReturnType<typeof trendOf>;
  /** The version's holdout MAE from its registration: what it promised. */
  baseline: number | null;
  degraded: boolean;
  reason: string;
  retrain: boolean;
}

const fail = (type: string, message: string): never => {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
};
const DAY = 86_400_000;

/**
 * Walk-forward backtests: the version's artifact (digest-verified) forecasts each day of the look-back from
 * the days before it, through the model's backtest command; Arena scores each window and stores it in
 * backtest_results (upsert on its key, so re-runs replace rather than add). The latest window against the
 * version's holdout MAE decides whether the model has degraded.
 */
export function backtestActivities({ knex, clock, artifacts }: ActivityDeps) {
  return {
    async runBacktest(args: {
      tenantId: string;
      model: string;
      version?: string;
      asOf?: string;
      lookbackDays?: number;
    }): Promise<BacktestOutcome> {
      const metadata = await modelMetadata(knex, args.tenantId, args.model);
      if (!metadata) return fail('UnknownModelError', `unknown model ${args.model}`);
      if (!metadata.backtest)
        return fail(
          'ConfigurationError',
          `model ${args.model} has no backtest configuration (models.metadata.backtest; see docs/monitoring.md)`,
        );
      let config: BacktestConfig;
      try {
        config = parseBacktestConfig(metadata.backtest, `backtest configuration of ${args.model}`);
      } catch (err) {
        return fail('ConfigurationError', (err as Error).message);
      }
      const version = args.version ?? (await getRouting(knex, args.model, args.tenantId)).champion;
      if (!version) return fail('ConfigurationError', `model ${args.model} has no champion to backtest`);
      const v = await getVersion(knex, args.model, version, args.tenantId);
      if (!v.artifactUri || !v.artifactDigest || !artifacts)
        return fail('ConfigurationError', `${args.model} ${version} has no artifact to backtest`);
      // T-1: yesterday is the last day whose actuals are complete; a fixed data set ends earlier.
      const yesterday = new Date(clock().getTime() - DAY).toISOString().slice(0, 10);
      const asOf = args.asOf ?? (config.dataEnd && config.dataEnd < yesterday ? config.dataEnd : yesterday);
      const lookback = args.lookbackDays ?? config.lookbackDays;
      const from = new Date(Date.parse(`${asOf}T00:00:00Z`) - (lookback - 1) * DAY)
        .toISOString()
        .slice(0, 10);
      const dir = await mkdtemp(join(tmpdir(), 'arena-backtest-'));
      let days: DailyForecast[];
      try {
        const path = join(dir, 'artifact');
        await writeFile(
          path,
          await artifacts
            .get(v.artifactUri, v.artifactDigest)
            .catch((e: Error) => fail('ArtifactRefused', e.message)),
        );
        const out = await runProcessJob({
          command: fillCommand(config.command, { artifact: path, from, to: asOf }),
          cwd: config.cwd,
          timeoutMs: 10 * 60_000,
        }).catch((e: Error) => fail('BacktestFailed', `backtest command failed: ${e.message}`));
        days = out.events.filter(
          (e): e is DailyForecast & Record<string, unknown> =>
            typeof e.date === 'string' && typeof e.forecast === 'number' && typeof e.actual === 'number',
        );
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
      const windows = backtestWindows(days, { asOf, windowDays: config.windowDays, lookbackDays: lookback });
      await upsertBacktestResults(knex, { tenantId: args.tenantId, model: args.model, version, windows });
      const baseline = (v.metrics as { holdout?: { mae?: number } }).holdout?.mae ?? null;
      const latest = windows.at(-1);
      const limit = baseline === null ? null : baseline * (1 + config.maxRelativeDegradation);
      const degraded = latest !== undefined && limit !== null && latest.mae > limit;
      return {
        model: args.model,
        version,
        asOf,
        windows,
        trend: trendOf(windows),
        baseline,
        degraded,
        retrain: config.retrain,
        reason: !latest
          ? `no forecasts between ${from} and ${asOf}`
          : baseline === null
            ? `latest window MAE ${latest.mae.toFixed(3)}; no holdout baseline registered to compare with`
            : `latest window ${latest.windowStart}..${latest.windowEnd}: MAE ${latest.mae.toFixed(3)} vs holdout ${baseline.toFixed(3)} (${(((latest.mae - baseline) / baseline) * 100).toFixed(1)}%, limit +${(config.maxRelativeDegradation * 100).toFixed(0)}%)`,
      };
    },

    async createDegradationRetrainJob(args: {
      tenantId: string;
      model: string;
      runId: string;
      reason: string;
      evidence: unknown;
      /** Who found the degradation (default the backtest; the champion monitor names itself). */
      requestedBy?: string;
    }): Promise<{ input: RetrainInput | null; note: string }> {
      return tryCreateRetrainJob(knex, {
        tenantId: args.tenantId,
        model: args.model,
        trigger: 'degradation',
        reason: args.reason,
        requestedBy: args.requestedBy ?? 'arena:backtest',
        evidence: args.evidence,
        jobId: `degr-${args.runId.slice(0, 13)}`,
      });
    },
  };
}
