import { histogramQuantile } from '../src/ingest/histogram.js';
import { readVersionMetrics } from '../src/analysis/rollup-reader.js';
import {
  ensureBaseline,
  eventsOfRun,
  insertEvents,
  latestEvents,
  openElsewhere,
  stateOf,
  type MonitorEvent,
} from '../src/monitoring/champion-monitor-store.js';
import {
  episodeAlertKey,
  judgeChampion,
  transitionOf,
  type ChampionFigures,
  type Finding,
} from '../src/monitoring/champion-tiers.js';
import { parseMonitoringPolicy, type MonitoringPolicy } from '../src/monitoring/policy.js';
import { modelMetadata } from '../src/registry/model-store.js';
import { getVersion } from '../src/registry/registry.js';
import { getRouting } from '../src/routing/store.js';
import { fail } from './failures.js';
import type { ActivityDeps } from './deps.js';

export interface ChampionMonitorRun {
  champion: string | null;
  /** What this run measured (empty when a retried activity read back what the run already decided). */
  findings: Finding[];
  /** What changed, each with the alert keys its notification uses. */
  events: Array<MonitorEvent & { alertKey: string; closes: string[] }>;
  /** A critical accuracy breach opened or escalated, and the policy retrains on it. */
  retrain: boolean;
  summary: string;
}

/**
 * One run of the champion monitor: the champion's figures over the policy's windows, from rollups, judged
 * against its baseline and the tiers, and turned into episode transitions stored under the run's id. A
 * retried activity finds them stored and returns them again; it never decides twice. Resolving an episode
 * closes (actions) its open alerts here; raising and sending is the workflow's (raiseAndNotify).
 */
export function championMonitorActivities({ knex, clock }: ActivityDeps) {
  return {
    async runChampionMonitor(args: {
      tenantId: string;
      model: string;
      checkId: string;
    }): Promise<ChampionMonitorRun> {
      const metadata = await modelMetadata(knex, args.tenantId, args.model);
      if (!metadata) return fail('UnknownModelError', `unknown model ${args.model}`);
      let p: MonitoringPolicy['champion'];
      try {
        p = parseMonitoringPolicy(metadata.monitoring, `monitoring policy of ${args.model}`).champion;
      } catch (err) {
        return fail('ConfigurationError', (err as Error).message);
      }
      const champion = (await getRouting(knex, args.model, args.tenantId)).champion;
      const keyed = (e: MonitorEvent) => ({
        ...e,
        alertKey: episodeAlertKey(
          args.model,
          e.version,
          e.check,
          e.episode,
          e.kind === 'resolved' ? e.peak : e.tier,
        ),
        closes:
          e.kind === 'resolved'
            ? (['warning', 'critical'] as const).map((t) =>
                episodeAlertKey(args.model, e.version, e.check, e.episode, t),
              )
            : [],
      });
      const decided = (events: MonitorEvent[], findings: Finding[], summary: string): ChampionMonitorRun => ({
        champion,
        findings,
        events: events.map(keyed),
        retrain:
          p.retrainOnCritical &&
          events.some((e) => e.check === 'accuracy' && e.tier === 'critical' && e.kind !== 'resolved'),
        summary,
      });

      const before = await eventsOfRun(knex, args.tenantId, args.model, args.checkId);
      if (before.length) return decided(before, [], `run ${args.checkId} already recorded`);

      const now = clock();
      const latest = await latestEvents(knex, args.tenantId, args.model);
      const at = now.toISOString();
      const windowOf = (ms: number) => ({ from: new Date(now.getTime() - ms).toISOString(), to: at });
      // A version that stopped being champion has no condition left to watch: its episodes resolve.
      const departed: MonitorEvent[] = openElsewhere(latest, champion ?? '').map((e) => ({
        ...e,
        kind: 'resolved',
        tier: 'ok',
        finding: { ...e.finding, tier: 'ok', reason: `${e.version} is no longer the champion` },
        window: windowOf(p.window),
        at,
      }));
      if (!champion) {
        await record(departed);
        return decided(departed, [], 'no champion');
      }

      const version = await getVersion(knex, args.model, champion, args.tenantId);
      const a = p.accuracy;
      const baseline = await ensureBaseline(knex, {
        tenantId: args.tenantId,
        model: args.model,
        version: champion,
        metric: a.metric,
        promotedAt: version.promotedAt ?? version.createdAt,
        windowMs: p.baselineWindow,
        minSamples: p.minSamples,
        now,
      });
      const read = (ms: number, metrics: string[], histograms: string[]) =>
        readVersionMetrics(knex, {
          tenantId: args.tenantId,
          model: args.model,
          versions: [champion],
          role: 'served',
          from: new Date(now.getTime() - ms),
          to: now,
          metrics,
          histograms,
          moments: [],
        }).then((f) => f[champion] ?? {});
      const recent = await read(p.window, [a.metric, 'latency_ms', 'error'], ['latency_ms']);
      const longer = await read(p.stability.window, [a.metric], []);
      const latency = recent.latency_ms;
      const figures: ChampionFigures = {
        accuracy: { value: recent[a.metric]?.summary.mean ?? null, n: recent[a.metric]?.summary.n ?? 0 },
        latency: {
          value: (latency?.histogram && histogramQuantile(latency.histogram, p.latency.quantile)) ?? null,
          n: latency?.summary.n ?? 0,
        },
        errorRate: { value: recent.error?.summary.mean ?? null, n: recent.error?.summary.n ?? 0 },
        stability: { value: longer[a.metric]?.summary.mean ?? null, n: longer[a.metric]?.summary.n ?? 0 },
      };
      const findings = judgeChampion(figures, baseline?.value ?? null, p);
      const changed: MonitorEvent[] = [...departed];
      for (const f of findings) {
        const t = transitionOf(stateOf(latest, champion, f.check), f, args.checkId);
        if (t)
          changed.push({
            ...t,
            version: champion,
            window: windowOf(f.check === 'stability' ? p.stability.window : p.window),
            at,
          });
      }
      await record(changed);
      const shown = findings.map((f) => `${f.check} ${f.tier ?? 'unknown'}: ${f.reason}`).join('; ');
      return decided(changed, findings, `${champion}: ${shown}`);

      /** The run's events and the closing of resolved episodes' alerts, in one transaction. */
      async function record(events: MonitorEvent[]): Promise<void> {
        await knex.transaction(async (trx) => {
          await insertEvents(trx, args.tenantId, args.model, args.checkId, events);
          const closes = events.flatMap((e) => keyed(e).closes);
          if (closes.length)
            await trx('alerts')
              .where({ tenant_id: args.tenantId })
              .whereIn('dedupe_key', closes)
              .whereIn('status', ['unread', 'read'])
              .update({ status: 'actioned', actioned_by: 'arena', updated_at: trx.fn.now() });
        });
      }
    },
  };
}
