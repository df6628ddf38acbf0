import { CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { WorkerMetrics } from './metrics.js';

/**
 * Counts every failed activity attempt by activity type and error type (cancellations are not failures). The error label is the
 * ApplicationFailure's `type` (Arena's own failure types) or the error's class name: a closed set, where
 * the message (which can hold caller data) would grow the metric without bound.
 */
export function countActivityFailures(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (err) {
          // A cancelled activity (a paused rollout's stage watch) did what it was asked.
          if (err instanceof CancelledFailure) throw err;
          metrics.activityFailures.inc({ activity: ctx.info.activityType, error: errorType(err) });
          throw err;
        }
      },
    },
  });
}

function errorType(err: unknown): string {
  if (err && typeof err === 'object') {
    const type = (err as { type?: unknown }).type;
    if (typeof type === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(type)) return type;
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && /^[A-Za-z][\w.]{0,63}$/.test(name)) return name;
  }
  return 'unknown';
}
