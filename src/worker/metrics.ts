import type { Knex } from 'knex';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The worker's Prometheus metrics (`arena worker --metrics`; docs/operations.md), on a registry of their own
 * so a process can hold several workers in tests.
 *
 * Two kinds: what happened in this worker (analyses, rollbacks, activity failures) counts in-process, once
 * per stored event, and sums across replicas; what the database holds (rollouts by state, each model's
 * challenger weight) is read at scrape time, so every replica reports the same value and a dashboard takes
 * `max` over them rather than `sum`.
 */
export function createWorkerMetrics(knex: Knex) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'arena_worker_' });
  new Gauge({
    name: 'arena_rollouts',
    help: 'Rollouts by state, from the database at scrape time (the same on every worker)',
    labelNames: ['tenant', 'state'] as const,
    registers: [registry],
    async collect() {
      const rows = (await knex('rollouts')
        .select('tenant_id', 'state')
        .count({ n: '*' })
        .groupBy('tenant_id', 'state')) as Array<{ tenant_id: string; state: string; n: string }>;
      this.reset();
      for (const r of rows) this.set({ tenant: r.tenant_id, state: r.state }, Number(r.n));
    },
  });
  new Gauge({
    name: 'arena_challenger_weight_ratio',
    help: 'Share of traffic each model’s challenger serves (canary weight; 0 in shadow or off), from the routing table at scrape time',
    labelNames: ['tenant', 'model', 'mode'] as const,
    registers: [registry],
    async collect() {
      const rows = (await knex('routing').select('tenant_id', 'model', 'mode', 'weight_bp')) as Array<{
        tenant_id: string;
        model: string;
        mode: string;
        weight_bp: number;
      }>;
      this.reset();
      for (const r of rows)
        this.set(
          { tenant: r.tenant_id, model: r.model, mode: r.mode },
          r.mode === 'canary' ? r.weight_bp / 10_000 : 0,
        );
    },
  });
  return {
    registry,
    analyses: new Counter({
      name: 'arena_analyses_total',
      help: 'Rollout analyses this worker ran and stored, by mode and the gate’s decision',
      labelNames: ['mode', 'decision'] as const,
      registers: [registry],
    }),
    breachToRollback: new Histogram({
      name: 'arena_breach_to_rollback_seconds',
      help: 'From the first failing analysis of a rollout to its recorded rollback',
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers: [registry],
    }),
    activityFailures: new Counter({
      name: 'arena_activity_failures_total',
      help: 'Failed activity attempts, by activity and error type (a retried attempt counts each time)',
      labelNames: ['activity', 'error'] as const,
      registers: [registry],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
