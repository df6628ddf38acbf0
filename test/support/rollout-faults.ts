import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { expect } from 'vitest';
import type { ArenaClient } from '../../src/client/arena-client.js';
import type { Knex } from '../../src/db/knex.js';
import type { PolicyInput } from '../../src/policy/policy.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { FINAL_STATES, type RolloutStatus } from '../../src/rollout/types.js';
import type { VersionProfile } from '../../src/simulate/traffic.js';
import { startTraffic, type Traffic } from '../../src/simulate/traffic.js';

/**
 * Shared pieces of the fault tests (test/e2e/rollout-faults.test.ts): a policy in seconds whose first canary
 * is long enough to inject a fault into, status polling that survives an outage, and the checks that a
 * rollout's records came out whole.
 */

/** Two canaries; the first long enough to inject a fault and let the rollout recover within it. */
export const FAULT_POLICY: PolicyInput = {
  approval: { required: false },
  stages: [
    { mode: 'canary', weight: 30, duration: '20s' },
    { mode: 'canary', weight: 50, duration: '4s' },
  ],
  analysis: { interval: '500ms', minSamples: 40, maxExtension: '10s', alpha: 0.05, tuningN: 500 },
  primaryMetric: {
    name: 'abs_error',
    direction: 'lower',
    minImprovement: 0.02,
    rollbackRelativeDegradation: 0.05,
  },
  guardrails: [
    { metric: 'error', max: 0.05, rollbackAbove: 0.15 },
    { metric: 'latency_ms', quantile: 0.95, max: 500, rollbackRelativeIncrease: 1.0 },
  ],
  onInconclusive: 'rollback',
  watch: { duration: '3s', rollbackOnRelativeDegradation: 0.5 },
};

/** A clearly better challenger (smaller prediction error, same errors and latency): the policy promotes it. */
export const BETTER: Record<string, VersionProfile> = { '1.0.0': { noise: 10 }, '1.1.0': { noise: 6 } };

/** The transitions a promoted rollout of FAULT_POLICY goes through, each exactly once. */
export const PROMOTED_TRANSITIONS = ['canary', 'canary', 'deciding', 'promoting', 'watching', 'promoted'];

/** Registers the versions (the first is champion) and starts synthetic traffic with 1-second buckets. */
export async function setUpModel(
  knex: Knex,
  databaseUrl: string,
  model: string,
  profiles: Record<string, VersionProfile>,
): Promise<Traffic> {
  for (const version of Object.keys(profiles))
    await registerVersion(knex, { model, version, actor: 'setup' });
  await setChampion(knex, { model, version: Object.keys(profiles)[0]!, actor: 'setup' });
  return startTraffic({
    databaseUrl,
    model,
    profiles: { ...profiles },
    ratePerSecond: 300,
    durable: true,
    requestPrefix: `${model}-${Date.now().toString(36)}`,
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the rollout's status until `predicate` holds. Errors (Postgres or Temporal down) are remembered
 * and retried, not thrown: the point of these tests is that things come back.
 */
export async function waitForStatus(
  arena: ArenaClient,
  rolloutId: string,
  predicate: (s: RolloutStatus) => boolean,
  what: string,
  timeoutMs = 90_000,
): Promise<RolloutStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: RolloutStatus | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await arena.status(rolloutId);
      if (predicate(last)) return last;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}; last state ${last?.state ?? '?'} ` +
          `(analysis ${JSON.stringify(last?.lastAnalysis?.summary ?? null)}); last error: ${
            (lastError as Error | undefined)?.message ?? 'none'
          }`,
      );
    }
    await sleep(200);
  }
}

/** In a canary stage with at least one analysis of it done: the moment to inject a fault "during analysis". */
export const analysingCanary = (s: RolloutStatus): boolean =>
  s.state === 'canary' && s.stage?.index === 0 && s.lastAnalysis?.stageIndex === 0;

export const isFinal = (s: RolloutStatus): boolean => FINAL_STATES.includes(s.state);

/**
 * The workflow's own result: it returns only after its last event is recorded, whereas the status query
 * shows a final state as soon as the workflow decides it. Errors while a dependency is still coming back are
 * retried until the deadline.
 */
export async function waitForResult(
  arena: ArenaClient,
  rolloutId: string,
  timeoutMs = 180_000,
): Promise<RolloutStatus> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        arena.result(rolloutId),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no result yet')), Math.max(1, deadline - Date.now()));
        }),
      ]);
    } catch (err) {
      lastError = err;
      await sleep(500);
    } finally {
      clearTimeout(timer);
    }
  }
  throw new Error(
    `rollout ${rolloutId} did not finish within ${timeoutMs} ms: ${(lastError as Error)?.message}`,
  );
}

/**
 * The records a finished rollout must leave however often its activities ran: rollout_events seq 1..N with
 * no gaps and no (rollout_id, seq) twice, each transition once in order, one audit row per event, analyses
 * seq unique and 1..M.
 */
export async function expectWholeRecords(
  knex: Knex,
  rolloutId: string,
  transitions: string[],
): Promise<{ events: number; analyses: number }> {
  const events = (await knex('rollout_events')
    .where({ rollout_id: rolloutId })
    .orderBy(['seq', 'id'])
    .select('seq', 'type', 'to_state')) as Array<{ seq: number; type: string; to_state: string | null }>;
  const seqs = events.map((e) => e.seq);
  expect(seqs.length).toBeGreaterThan(0);
  expect(seqs, 'rollout_events seq must run 1..N without gaps or repeats').toEqual(seqs.map((_, i) => i + 1));
  const duplicated = await knex('rollout_events')
    .where({ rollout_id: rolloutId })
    .groupBy('rollout_id', 'seq')
    .havingRaw('count(*) > 1')
    .select('seq');
  expect(duplicated).toEqual([]);
  expect(
    events.filter((e) => e.type === 'transition').map((e) => e.to_state),
    'each transition recorded once, in order',
  ).toEqual(transitions);

  const audited = (await knex('audit_log')
    .where({ entity_type: 'rollout', entity_id: rolloutId })
    .whereLike('idempotency_key', `${rolloutId}:event:%`)
    .pluck('idempotency_key')) as string[];
  expect(audited.sort()).toEqual(seqs.map((s) => `${rolloutId}:event:${s}`).sort());

  const analyses = (await knex('analyses')
    .where({ rollout_id: rolloutId })
    .orderBy(['seq', 'id'])
    .pluck('seq')) as number[];
  expect(analyses.length).toBeGreaterThan(0);
  expect(new Set(analyses).size, 'analyses seq unique').toBe(analyses.length);
  expect(analyses, 'analyses seq 1..M').toEqual(analyses.map((_, i) => i + 1));
  return { events: events.length, analyses: analyses.length };
}

export type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Every event of the rollout's workflow run (the fault tests' rollouts are short: no continue-as-new). */
export async function rolloutHistory(client: Client, knex: Knex, rolloutId: string): Promise<HistoryEvent[]> {
  const row = (await knex('rollouts').where({ id: rolloutId }).first('workflow_id', 'run_id')) as {
    workflow_id: string;
    run_id: string;
  };
  const history = await client.workflow.getHandle(row.workflow_id, row.run_id).fetchHistory();
  return history.events ?? [];
}

/** The attempt a local activity's marker records (null for any other event). */
export function localActivityAttempt(event: HistoryEvent): number | null {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return null;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return null;
  return (JSON.parse(Buffer.from(data).toString('utf8')) as { attempt: number }).attempt;
}
