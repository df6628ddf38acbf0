import type { Client, ScheduleDescription, ScheduleOptionsAction, ScheduleSpec } from '@temporalio/client';
import type { Knex } from 'knex';
import { parseMonitoringPolicy } from '../monitoring/policy.js';
import { UnknownModelError } from '../errors.js';
import { modelMetadata } from '../registry/model-store.js';
import { seedsPreset, toScheduleSpec, type Cadence } from './cadence.js';

export const SCHEDULE_KINDS = ['drift', 'monitor', 'backtest', 'backtest90', 'retrain', 'report'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

export const scheduleId = (kind: ScheduleKind, tenantId: string, model: string): string =>
  `arena-${kind}-${tenantId}-${model}`;

export interface ScheduleView {
  id: string;
  kind: string;
  model: string | null;
  every: string;
  paused: boolean;
  note: string | null;
  nextRuns: string[];
  recentRuns: number;
}

const WORKFLOW: Record<ScheduleKind, string> = {
  drift: 'driftCheckWorkflow',
  monitor: 'championMonitorWorkflow',
  backtest: 'backtestWorkflow',
  backtest90: 'backtestWorkflow',
  retrain: 'scheduledRetrainWorkflow',
  report: 'weeklyReportWorkflow',
};

/**
 * Temporal Schedules for one model: drift checks, the champion monitor, the latest backtest window, the whole backtest lookback,
 * retraining and the report, at the cadences of the model's monitoring policy (intervals, or cron
 * expressions in a time zone) or of a preset (`seeds`: the arena seed's fixed times). Creating them again
 * updates them (idempotent).
 */
export async function createModelSchedules(
  knex: Knex,
  temporal: { client: Client; taskQueue: string },
  args: { tenantId?: string; model: string; preset?: { name: 'seeds'; timezone: string } },
): Promise<ScheduleView[]> {
  const tenantId = args.tenantId ?? 'default';
  const metadata = await modelMetadata(knex, tenantId, args.model);
  if (!metadata) throw new UnknownModelError(args.model);
  const policy = parseMonitoringPolicy(metadata.monitoring, `monitoring policy of ${args.model}`);
  const cadences = args.preset ? seedsPreset(args.preset.timezone) : policy.schedules;
  const when: Record<ScheduleKind, Cadence> = {
    drift: cadences.driftCheck,
    monitor: cadences.monitor,
    backtest: cadences.backtest,
    backtest90: cadences.backtestFull,
    retrain: cadences.retrain,
    report: cadences.report,
  };
  // The daily job backtests the latest window only (T-1); the weekly one the model's whole lookback
  // (its backtest configuration, 90 days by default), as `arena backtest` does.
  const extra: Record<ScheduleKind, Record<string, unknown>> = {
    drift: {},
    monitor: {},
    backtest: { lookbackDays: 7 },
    backtest90: {},
    retrain: {},
    report: {},
  };
  for (const kind of SCHEDULE_KINDS) {
    const id = scheduleId(kind, tenantId, args.model);
    const action = {
      type: 'startWorkflow' as const,
      workflowType: WORKFLOW[kind],
      taskQueue: temporal.taskQueue,
      args: [{ tenantId, model: args.model, ...extra[kind] }],
      workflowId: `${id}-run`,
    };
    await upsertSchedule(
      temporal.client,
      id,
      toScheduleSpec(when[kind]),
      action,
      `created by arena for ${args.model}`,
    );
  }
  // Described one by one: listing goes through visibility, which lags a moment behind a create.
  return Promise.all(
    SCHEDULE_KINDS.map(async (kind) => {
      const id = scheduleId(kind, tenantId, args.model);
      return view(id, await temporal.client.schedule.getHandle(id).describe());
    }),
  );
}

/** One for the deployment: raw days are shared by every model (src/retention/plan.ts). */
export const RETENTION_SCHEDULE_ID = 'arena-retention';
/** Daily at 03:30 UTC, after the seeds' nightly jobs. */
export const RETENTION_CADENCE = { cron: '30 3 * * *', timezone: 'UTC' } satisfies Cadence;

/**
 * Creates (or re-times) the deployment's retention schedule. Its own command rather than part of a model's
 * schedules: it acts on every model's raw days at once, so whoever runs the deployment switches it on.
 */
export async function createRetentionSchedule(
  temporal: { client: Client; taskQueue: string },
  cadence: Cadence = RETENTION_CADENCE,
): Promise<ScheduleView> {
  const handle = temporal.client.schedule.getHandle(RETENTION_SCHEDULE_ID);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'retentionWorkflow',
    taskQueue: temporal.taskQueue,
    args: [{}],
    workflowId: `${RETENTION_SCHEDULE_ID}-run`,
  };
  await upsertSchedule(
    temporal.client,
    RETENTION_SCHEDULE_ID,
    toScheduleSpec(cadence),
    action,
    'created by arena: drops the raw days every model has let go',
  );
  return view(RETENTION_SCHEDULE_ID, await handle.describe());
}

/** Creates a schedule, or gives an existing one this spec and action (keeping its state and note). */
async function upsertSchedule(
  client: Client,
  id: string,
  spec: ScheduleSpec,
  action: ScheduleOptionsAction,
  note: string,
): Promise<void> {
  const handle = client.schedule.getHandle(id);
  const exists = await handle.describe().then(
    () => true,
    () => false,
  );
  if (exists) await handle.update((prev) => ({ ...prev, spec, action }));
  else
    await client.schedule.create({
      scheduleId: id,
      spec,
      action,
      policies: { overlap: 'SKIP' },
      state: { note },
    });
}

function view(id: string, d: ScheduleDescription): ScheduleView {
  const m =
    id === RETENTION_SCHEDULE_ID
      ? ['', 'retention']
      : /^arena-(drift|monitor|backtest90|backtest|retrain|report)-([^-]+)-(.+)$/.exec(id);
  const ms = Number(d.spec.intervals?.[0]?.every ?? 0);
  // The server keeps a cron expression as calendars: shown as such, with the time zone and next runs.
  const calendar = d.spec.calendars?.length ? `calendar ${d.spec.timezone ?? 'UTC'}` : 'custom';
  return {
    id,
    kind: m?.[1] ?? 'other',
    model: m?.[3] ?? null,
    every: ms ? `${ms / 1000}s` : calendar,
    paused: d.state.paused,
    note: d.state.note ?? null,
    nextRuns: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    recentRuns: d.info.recentActions.length,
  };
}

/** Every Arena schedule (through visibility: one created a moment ago may not be listed yet). */
export async function listModelSchedules(client: Client): Promise<ScheduleView[]> {
  const out: ScheduleView[] = [];
  for await (const s of client.schedule.list()) {
    if (!s.scheduleId.startsWith('arena-')) continue;
    out.push(view(s.scheduleId, await client.schedule.getHandle(s.scheduleId).describe()));
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export async function setSchedulePaused(
  client: Client,
  id: string,
  paused: boolean,
  note: string,
): Promise<ScheduleView> {
  const handle = client.schedule.getHandle(id);
  if (paused) await handle.pause(note);
  else await handle.unpause(note);
  return view(id, await handle.describe());
}
