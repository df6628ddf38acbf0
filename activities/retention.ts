import { Context } from '@temporalio/activity';
import { appendAudit } from '../src/db/audit.js';
import {
  activeRollouts,
  dropDay,
  listDays,
  modelsOnDays,
  retentionByModel,
} from '../src/retention/day-store.js';
import { planRetention } from '../src/retention/plan.js';
import type { ActivityDeps } from './deps.js';

export interface RetentionDay {
  day: string;
  drop: boolean;
  reason: string;
  bytes: number;
  /** Set when the day was dropped by this run (not on a dry run). */
  dropped?: boolean;
  /** Why a day due to go is still there (its tables were busy): the next run tries again. */
  busy?: string;
}

export interface RetentionOutcome {
  dryRun: boolean;
  days: RetentionDay[];
  dropped: number;
  freedBytes: number;
}

/** How long a drop waits for the raw tables before leaving the day to the next run. */
const LOCK_TIMEOUT_MS = 10_000;

function heartbeat(details: unknown): void {
  // Outside a worker (the CLI's dry run, tests) there is no activity context to report to.
  try {
    Context.current().heartbeat(details);
  } catch {
    /* not in an activity */
  }
}

export function retentionActivities({ knex, clock, log }: ActivityDeps) {
  return {
    /**
     * Drops the day partitions of raw predictions and feedback that every model on them has let go
     * (src/retention/plan.ts). `runId` makes a retried run audit each day once.
     */
    async applyRetention(args: { runId: string; dryRun?: boolean }): Promise<RetentionOutcome> {
      const days = await listDays(knex);
      const names = days.map((d) => d.day);
      const modelsOn = await modelsOnDays(knex, names);
      const plan = planRetention({
        today: clock(),
        days: names,
        modelsOn,
        retentionOf: await retentionByModel(knex),
        activeRollouts: await activeRollouts(knex),
      });
      const bytesOf = new Map(days.map((d) => [d.day, d.bytes]));
      const out: RetentionDay[] = [];
      let dropped = 0;
      let freedBytes = 0;
      for (const d of plan) {
        const bytes = bytesOf.get(d.day) ?? 0;
        if (!d.drop || args.dryRun) {
          out.push({ ...d, bytes });
          continue;
        }
        const done = await dropDay(knex, d.day, {
          lockTimeoutMs: LOCK_TIMEOUT_MS,
          onProgress: (requests) => heartbeat({ day: d.day, requests }),
        });
        if (!done.dropped) {
          log.warn({ day: d.day, busy: done.busy }, 'retention: day left for the next run');
          out.push({ ...d, bytes, dropped: false, ...(done.busy ? { busy: done.busy } : {}) });
          continue;
        }
        dropped += 1;
        freedBytes += bytes;
        out.push({ ...d, bytes, dropped: true });
        const models = modelsOn.get(d.day) ?? [];
        const tenants = [...new Set(models.map((m) => m.tenantId))];
        for (const tenantId of tenants.length > 0 ? tenants : ['default']) {
          await appendAudit(knex, {
            tenantId,
            actor: 'retention',
            action: 'raw_day.dropped',
            entityType: 'raw_day',
            entityId: d.day,
            details: {
              models: models.filter((m) => m.tenantId === tenantId).map((m) => m.model),
              reason: d.reason,
              bytes,
              requests: done.requests,
            },
            idempotencyKey: `retention:${args.runId}:${d.day}:${tenantId}`,
          });
        }
        heartbeat({ day: d.day, dropped: true });
      }
      log.info({ dropped, freedBytes, dryRun: Boolean(args.dryRun) }, 'retention run');
      return { dryRun: Boolean(args.dryRun), days: out, dropped, freedBytes };
    },
  };
}
