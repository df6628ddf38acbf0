import { Context } from '@temporalio/activity';
import { findAlertByDedupeKey } from '../src/alerts/alert-store.js';
import { sinkTakes, type NotifySink } from '../src/notify/config.js';
import {
  claimDelivery,
  markDelivered,
  markFailed,
  recordFailedAttempt,
} from '../src/notify/delivery-store.js';
import { jsonPayload, slackPayload } from '../src/notify/payload.js';
import { backoffDelay } from '../src/retry/backoff.js';
import type { ActivityDeps } from './deps.js';

export interface DeliveryOutcome {
  sink: string;
  status: 'delivered' | 'failed' | 'skipped';
  attempts: number;
  detail: string;
}

/** 4xx answers other than 408 (timeout) and 429 (slow down) will not change on a retry. */
const permanent = (status: number): boolean =>
  status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * Sends a new alert or lifecycle event to every sink whose severities and types take it. Each (alert, sink) is claimed in
 * notification_deliveries, so a retried activity or a repeated alert never delivers twice; each delivery
 * is retried with jittered exponential backoff inside the activity (heartbeating), a permanent refusal is recorded
 * as failed at once, and receivers get an Idempotency-Key to drop the rare duplicate of a crash mid-send.
 */
export function notificationActivities({ knex, notify, log }: ActivityDeps) {
  return {
    async notifyAlert(args: { tenantId: string; dedupeKey: string }): Promise<DeliveryOutcome[]> {
      const sinks = notify?.sinks ?? [];
      if (sinks.length === 0) return [];
      const found = await findAlertByDedupeKey(knex, args.tenantId, args.dedupeKey);
      if (!found) return [];
      const alert = found;
      const workflowId = typeof alert.details.workflowId === 'string' ? alert.details.workflowId : null;
      // The alert's workflow runs in the namespace of the workflow that asked for this notification. Read
      // only for a delivery that goes out: a repeated alert is skipped before it needs the activity's context.
      const links = () => ({
        temporalUi:
          notify?.temporalUi && workflowId
            ? `${notify.temporalUi}/namespaces/${encodeURIComponent(Context.current().info.namespace || 'default')}/workflows/${encodeURIComponent(workflowId)}`
            : undefined,
        report:
          notify?.arenaUrl && alert.rolloutId
            ? `${notify.arenaUrl.replace(/\/+$/, '')}/v1/rollouts/${encodeURIComponent(alert.rolloutId)}/report`
            : undefined,
      });
      const out: DeliveryOutcome[] = [];
      for (const sink of sinks) {
        if (!sinkTakes(sink, alert.severity, alert.type)) continue;
        out.push(await deliver(sink));
      }
      return out;

      async function deliver(sink: NotifySink): Promise<DeliveryOutcome> {
        const key = { tenantId: args.tenantId, alertId: alert.id, sink: sink.name };
        const claim = await claimDelivery(knex, key);
        if (claim.status !== 'pending')
          return {
            sink: sink.name,
            status: 'skipped',
            attempts: claim.attempts,
            detail: `already ${claim.status}`,
          };
        const body = JSON.stringify(
          sink.format === 'slack' ? slackPayload(alert, links()) : jsonPayload(alert, links()),
        );
        let attempts = claim.attempts;
        let lastError = '';
        for (let i = 0; i < sink.attempts; i++) {
          if (i > 0) {
            Context.current().heartbeat({ sink: sink.name, attempt: i });
            await Context.current().sleep(backoffDelay(i, { baseMs: 250, maxMs: 10_000 }));
          }
          attempts++;
          let status = 0;
          try {
            const res = await fetch(sink.url, {
              method: 'POST',
              headers: {
                'content-type': 'application/json',
                'idempotency-key': `${args.tenantId}:${alert.id}:${sink.name}`,
                ...sink.headers,
              },
              body,
              signal: AbortSignal.timeout(10_000),
            });
            status = res.status;
            if (res.ok) {
              await markDelivered(knex, key, { attempts, httpStatus: status });
              return { sink: sink.name, status: 'delivered', attempts, detail: `HTTP ${status}` };
            }
            lastError = `HTTP ${status}: ${(await res.text()).slice(0, 200)}`;
          } catch (err) {
            lastError = (err as Error).message;
          }
          await recordFailedAttempt(knex, key, { attempts, httpStatus: status || null, lastError });
          if (permanent(status)) break;
        }
        await markFailed(knex, key);
        log.warn({ sink: sink.name, alert: alert.id, attempts, lastError }, 'notification not delivered');
        return { sink: sink.name, status: 'failed', attempts, detail: lastError };
      }
    },
  };
}
