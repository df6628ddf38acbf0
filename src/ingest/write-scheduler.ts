import type pg from 'pg';
import type { Logger } from '../log.js';
import { writeBisecting } from './bisect.js';
import type { BoundedRetry } from './bounded-retry.js';
import type { WriterHealthTracker } from './recorder-health.js';
import type { RecorderStats } from './recorder-stats.js';
import { maybeResolve, settle, ticketFor, type Queued, type Ticket } from './recorder-tickets.js';
import type { Feedback, Prediction } from './records.js';
import {
  WriteFailedError,
  classifyWriteError,
  describeWriteError,
  type WriteErrorKind,
} from './write-errors.js';
import { writeFeedback, writePredictions, type WriteOptions } from './writer.js';

/** The records of each queue. */
export interface RecordsOfKind {
  predictions: Prediction;
  feedback: Feedback;
}

export type RecordKind = keyof RecordsOfKind;

export interface WriteSchedulerOptions {
  pool: pg.Pool;
  tenantId: string;
  batchSize: number;
  concurrency: number;
  flushIntervalMs: number;
  maxBuffered: number;
  writeOptions: WriteOptions;
  retry: BoundedRetry;
  health: WriterHealthTracker;
  stats: RecorderStats;
  log: Logger | undefined;
}

export interface WriteScheduler {
  /** Records queued or being written. */
  buffered(): number;
  /** Whether the buffer is full: a caller must wait for room() before queuing more. */
  full(): boolean;
  /** Resolves once the buffer has room (back-pressure); writes out partial batches meanwhile. */
  room(): Promise<void>;
  /** Queues a record; a full batch goes out at once. */
  enqueue<K extends RecordKind>(kind: K, item: Queued<RecordsOfKind[K]>): void;
  /** Starts the writes that may start now; `force` also sends partial batches (timer, flush, close). */
  pump(force: boolean): void;
  /** Waits for a ticket's records; the ticket counts as a waiter meanwhile (group commit). */
  wait(ticket: Ticket): Promise<void>;
  /** A ticket over every record buffered or being written now. */
  ticketForAll(): Ticket;
  /** Gives up on everything not yet written: its callers get an error, and nothing new starts. */
  abandon(): void;
  /** Whether abandon was called. */
  abandoned(): boolean;
  /** Stops the flush timer for good (close). */
  stopTimer(): void;
}

/**
 * The recorder's write path: queues of records, the writes running on the pool, when the next one starts
 * (full batches, the flush timer, group commit for waiting callers, the pause after a transient failure),
 * and what a finished or failed write means for the records' tickets, the stats and the writer's health.
 */
export function createWriteScheduler(options: WriteSchedulerOptions): WriteScheduler {
  const { pool, tenantId, batchSize, concurrency, flushIntervalMs, maxBuffered, writeOptions } = options;
  const { retry, health, stats, log } = options;
  const queues: { [K in RecordKind]: Array<Queued<RecordsOfKind[K]>> } = { predictions: [], feedback: [] };
  const inFlight = new Set<Queued<unknown>>();
  const writes = new Set<Promise<void>>();
  /** Durable callers and flushes still waiting: while any is, writes go out at once (group commit). */
  let waiting = 0;
  /** Set when close gave up on running writes: nothing new starts. */
  let abandoned = false;
  let timer: NodeJS.Timeout | undefined;
  const roomWaiters: Array<() => void> = [];

  const buffered = (): number => queues.predictions.length + queues.feedback.length + inFlight.size;

  const startWrite = <K extends RecordKind>(kind: K, items: Array<Queued<RecordsOfKind[K]>>): void => {
    for (const i of items) inFlight.add(i);
    const records = items.map((i) => i.record);
    const write = (async () => {
      try {
        const settlements =
          kind === 'predictions'
            ? await writeBisecting(records as Prediction[], (b) =>
                writePredictions(pool, tenantId, b, writeOptions),
              )
            : await writeBisecting(records as Feedback[], (b) =>
                writeFeedback(pool, tenantId, b, writeOptions),
              );
        let stored = 0;
        let duplicates = 0;
        settlements.forEach((s, i) => {
          const item = items[i]!;
          if (s.kind === 'stored') stored += 1;
          else if (s.kind === 'duplicate') duplicates += 1;
          else if (s.kind === 'refused') {
            stats.refused += 1;
            log?.warn(
              { tenantId, kind, index: item.index, field: s.field, reason: s.reason },
              'recorder: the database refused a record',
            );
          }
          settle(item, s);
        });
        if (kind === 'predictions') {
          stats.written += stored;
          stats.lastBatchSize = records.length;
        } else stats.feedbackWritten += stored;
        stats.duplicates += duplicates;
        stats.flushes += 1;
        stats.lastError = undefined;
        retry.succeeded();
        health.set('ok');
      } catch (err) {
        const errorKind: WriteErrorKind = classifyWriteError(err);
        const reason = describeWriteError(err);
        stats.lastError = reason;
        // After close gave up on this write its records were already failed; nothing more to tell.
        if (abandoned) return;
        if (errorKind === 'transient') {
          // Put the records back at the front and retry after a jittered pause; those past their window are
          // given up now and their callers told.
          const { delay, retry: again, expired } = retry.failed(items);
          queues[kind].unshift(...again);
          health.set(expired.length > 0 ? 'failing' : 'retrying', reason);
          log?.warn(
            { err: reason, tenantId, buffered: buffered(), givenUp: expired.length },
            `recorder: write failed; retrying in ${delay} ms`,
          );
          failItems(
            expired,
            new WriteFailedError(
              `not stored: the database was unreachable for ${Math.round(retry.retryForMs / 1000)} s (${reason})`,
              'transient',
              expired.length,
            ),
          );
        } else {
          health.set('failing', reason);
          log?.error(
            { err: reason, tenantId, records: items.length },
            'recorder: the database refused a write',
          );
          failItems(
            items,
            new WriteFailedError(
              `not stored: the database refused the write (${reason})`,
              'batch',
              items.length,
            ),
          );
        }
      } finally {
        for (const i of items) inFlight.delete(i);
        stats.buffered = buffered();
        while (roomWaiters.length && buffered() < maxBuffered) roomWaiters.shift()!();
      }
    })();
    writes.add(write);
    void write.finally(() => {
      writes.delete(write);
      // Group commit: whatever queued behind this write while a durable caller waits goes out now, as one
      // batch, instead of waiting for a full batch or the flush timer.
      pump(waiting > 0);
    });
  };

  const failItems = (items: Array<Queued<unknown>>, error: WriteFailedError): void => {
    stats.failed += items.length;
    for (const item of items) settle(item, { kind: 'failed', error });
  };

  const pump = (force: boolean): void => {
    if (abandoned) return;
    const wait = retry.pauseLeft();
    if (wait > 0) {
      arm(wait);
      return;
    }
    // Feedback never runs beside a prediction write: each side's joins must see the other committed (the
    // writer handles either arrival order, but not two transactions racing). Once feedback is ready, no new
    // prediction write starts until it has gone, so a steady stream of predictions cannot starve it.
    const feedbackReady = queues.feedback.length >= batchSize || (force && queues.feedback.length > 0);
    if (feedbackReady) {
      if (writes.size === 0) startWrite('feedback', queues.feedback.splice(0, batchSize));
    } else {
      while (
        writes.size < concurrency &&
        (queues.predictions.length >= batchSize || (force && queues.predictions.length > 0))
      ) {
        startWrite('predictions', queues.predictions.splice(0, batchSize));
      }
    }
    if (queues.predictions.length + queues.feedback.length > 0) arm(flushIntervalMs);
  };

  const arm = (ms: number): void => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      pump(true);
    }, ms);
  };

  return {
    buffered,
    full: () => buffered() >= maxBuffered,
    async room() {
      while (buffered() >= maxBuffered) {
        pump(true);
        await new Promise<void>((resolve) => roomWaiters.push(resolve));
      }
    },
    enqueue(kind, item) {
      const queue = queues[kind];
      queue.push(item);
      if (queue.length >= batchSize) pump(false);
    },
    pump,
    async wait(ticket) {
      ticket.sealed = true;
      maybeResolve(ticket);
      waiting += 1;
      try {
        pump(true);
        await ticket.done;
      } finally {
        waiting -= 1;
      }
    },
    ticketForAll: () => ticketFor([...queues.predictions, ...queues.feedback, ...inFlight]),
    abandon() {
      abandoned = true;
      const items: Array<Queued<unknown>> = [...queues.predictions, ...queues.feedback, ...inFlight];
      queues.predictions = [];
      queues.feedback = [];
      inFlight.clear();
      failItems(
        items,
        new WriteFailedError(
          'not stored: the recorder was closed before the write finished',
          'closed',
          items.length,
        ),
      );
      while (roomWaiters.length) roomWaiters.shift()!();
    },
    abandoned: () => abandoned,
    // The timer stays set, so that no write finishing after close arms it again.
    stopTimer() {
      if (timer) clearTimeout(timer);
    },
  };
}
