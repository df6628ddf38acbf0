import { fail } from './failures.js';
import { evaluateDrift, type DriftVerdict } from '../src/monitoring/drift.js';
import { insertDriftReports, type DriftReportInput } from '../src/monitoring/drift-report-store.js';
import { servedFeatureSample } from '../src/monitoring/feature-sample.js';
import { parseMonitoringPolicy, type MonitoringPolicy } from '../src/monitoring/policy.js';
import { readVersionMetrics } from '../src/analysis/rollup-reader.js';
import { modelMetadata } from '../src/registry/model-store.js';
import { getVersion } from '../src/registry/registry.js';
import { tryCreateRetrainJob } from '../src/retrain/job-request.js';
import type { RetrainInput } from '../src/retrain/types.js';
import { getRouting } from '../src/routing/store.js';
import type { ActivityDeps } from './deps.js';

export interface DriftCheckResult extends DriftVerdict {
  checkId: string;
  model: string;
  champion: string | null;
  window: { from: string; to: string };
  policy: MonitoringPolicy['drift'];
}

/**
 * Data drift: the champion's reference profile (from its artifact, digest-verified) against the inputs and
 * predictions it served in the recent window. The report rows are keyed by the check id, so a retried
 * activity writes them once.
 */
export function monitoringActivities({ knex, clock, artifacts }: ActivityDeps) {
  return {
    async runDriftCheck(args: {
      tenantId: string;
      model: string;
      checkId: string;
    }): Promise<DriftCheckResult> {
      const { tenantId, model, checkId } = args;
      const metadata = await modelMetadata(knex, tenantId, model);
      if (!metadata) return fail('UnknownModelError', `unknown model ${model}`);
      let policy: MonitoringPolicy;
      try {
        policy = parseMonitoringPolicy(metadata.monitoring, `monitoring policy of ${model}`);
      } catch (err) {
        return fail('ConfigurationError', (err as Error).message);
      }
      const routing = await getRouting(knex, model, tenantId);
      const to = clock();
      const from = new Date(to.getTime() - policy.drift.recentWindow);
      const base = {
        checkId,
        model,
        champion: routing.champion,
        window: { from: from.toISOString(), to: to.toISOString() },
        policy: policy.drift,
      };
      if (!routing.champion)
        return { ...base, ...evaluateDrift({}, {}, policy.drift), summary: 'no champion to check' };
      const champion = await getVersion(knex, model, routing.champion, tenantId);
      if (!champion.artifactUri || !champion.artifactDigest || !artifacts)
        return {
          ...base,
          ...evaluateDrift({}, {}, policy.drift),
          summary: `champion ${champion.version} has no artifact with a reference profile`,
        };
      const bytes = await artifacts
        .get(champion.artifactUri, champion.artifactDigest)
        .catch((err: Error) => fail('ArtifactRefused', err.message));
      const profile =
        (
          JSON.parse(Buffer.from(bytes).toString('utf8')) as {
            featureProfile?: Record<string, { sample?: number[]; categories?: Record<string, number> }>;
          }
        ).featureProfile ?? {};
      const reference = Object.fromEntries(
        Object.entries(profile).flatMap(([k, v]) => (Array.isArray(v.sample) ? [[k, v.sample]] : [])),
      );
      // A categorical input's profile is its category counts over the training window.
      const referenceCategories = Object.fromEntries(
        Object.entries(profile).flatMap(([k, v]) =>
          v.categories && typeof v.categories === 'object' ? [[k, v.categories]] : [],
        ),
      );
      const recent = await servedFeatureSample(knex, {
        tenantId,
        model,
        version: champion.version,
        from,
        to,
        limit: policy.drift.maxSamples,
      });
      const current: Record<string, number[]> = {};
      const currentCategories: Record<string, Record<string, number>> = {};
      for (const r of recent) {
        for (const [k, v] of Object.entries(r.features))
          if (typeof v === 'number') (current[k] ??= []).push(v);
          else {
            const counts = (currentCategories[k] ??= {});
            counts[v] = (counts[v] ?? 0) + 1;
          }
        if (r.value !== null) (current.prediction ??= []).push(r.value);
      }
      const verdict = evaluateDrift(reference, current, policy.drift, {
        reference: referenceCategories,
        current: currentCategories,
      });
      const windows = (feature: string) => ({
        reference: 'training profile',
        recent: base.window,
        n: current[feature]?.length ?? 0,
      });
      await insertDriftReports(knex, {
        tenantId,
        model,
        version: champion.version,
        checkId,
        rows: verdict.features.flatMap((f): DriftReportInput[] => [
          {
            method: 'psi',
            statistic: f.psi,
            p_value: null,
            threshold: policy.drift.psiThreshold,
            drifted: f.drifted,
            feature: f.feature,
            windows: windows(f.feature),
          },
          f.chiSquare
            ? {
                method: 'chi_square',
                statistic: f.chiSquare.statistic,
                p_value: f.chiSquare.pValue,
                threshold: policy.drift.ksAlpha,
                drifted: f.chiSquare.pValue < policy.drift.ksAlpha,
                feature: f.feature,
                windows: { ...windows(f.feature), n: f.current },
              }
            : {
                method: 'ks',
                statistic: f.ks!.d,
                p_value: f.ks!.pValue,
                threshold: policy.drift.ksAlpha,
                drifted: f.ks!.pValue < policy.drift.ksAlpha,
                feature: f.feature,
                windows: windows(f.feature),
              },
        ]),
      });
      return { ...base, ...verdict };
    },

    /**
     * Performance from feedback: the champion's accuracy (the `correct` metric, recorded for classifiers)
     * over the policy's window, from rollups, against the floor. Regressors record no accuracy: skipped.
     */
    async runPerformanceCheck(args: { tenantId: string; model: string }): Promise<{
      champion: string | null;
      accuracy: number | null;
      n: number;
      floor: number;
      degraded: boolean;
      retrain: boolean;
      reason: string;
    }> {
      const metadata = await modelMetadata(knex, args.tenantId, args.model);
      if (!metadata) return fail('UnknownModelError', `unknown model ${args.model}`);
      const policy = parseMonitoringPolicy(
        metadata.monitoring,
        `monitoring policy of ${args.model}`,
      ).performance;
      const champion = (await getRouting(knex, args.model, args.tenantId)).champion;
      const base = { champion, floor: policy.accuracyFloor, retrain: policy.retrain };
      if (!champion) return { ...base, accuracy: null, n: 0, degraded: false, reason: 'no champion' };
      const to = clock();
      const s = (
        await readVersionMetrics(knex, {
          tenantId: args.tenantId,
          model: args.model,
          versions: [champion],
          role: 'served',
          from: new Date(to.getTime() - policy.window),
          to,
          histograms: false,
        })
      )[champion]?.correct?.summary;
      if (!s || s.n < policy.minSamples)
        return {
          ...base,
          accuracy: s?.n ? s.mean : null,
          n: s?.n ?? 0,
          degraded: false,
          reason: `accuracy not judged: ${s?.n ?? 0} labelled predictions, fewer than ${policy.minSamples}`,
        };
      const degraded = s.mean < policy.accuracyFloor;
      return {
        ...base,
        accuracy: s.mean,
        n: s.n,
        degraded,
        reason: `champion ${champion} accuracy ${(s.mean * 100).toFixed(1)}% over ${s.n} labelled predictions ${degraded ? 'below' : 'at or above'} the floor ${(policy.accuracyFloor * 100).toFixed(0)}%`,
      };
    },

    /** The weekly retrain's job; null (with the reason) when one is already running. */
    async createScheduledRetrainJob(args: {
      tenantId: string;
      model: string;
      runId: string;
    }): Promise<{ input: RetrainInput | null; note: string }> {
      return tryCreateRetrainJob(knex, {
        tenantId: args.tenantId,
        model: args.model,
        trigger: 'schedule',
        reason: 'scheduled retrain',
        requestedBy: 'arena:schedule',
        jobId: `sched-${args.runId.slice(0, 13)}`,
      });
    },

    /** The retraining job a drift check starts; null (with the reason) when one is already running. */
    async createDriftRetrainJob(args: {
      tenantId: string;
      model: string;
      checkId: string;
      reason: string;
      evidence: unknown;
    }): Promise<{ input: RetrainInput | null; note: string }> {
      return tryCreateRetrainJob(knex, {
        tenantId: args.tenantId,
        model: args.model,
        trigger: 'drift',
        reason: args.reason,
        requestedBy: 'arena:drift-check',
        evidence: args.evidence,
        jobId: `drift-${args.checkId}`,
      });
    },
  };
}
