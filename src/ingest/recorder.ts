import pg from 'pg';
import type { Logger } from '../log.js';
import { BoundedRetry } from './bounded-retry.js';
import type { TimeWindow } from './limits.js';
import { WriterHealthTracker, type WriterHealth } from './recorder-health.js';
import { emptyRecorderStats, type RecorderStats } from './recorder-stats.js';
import { newTicket } from './recorder-tickets.js';
import { isRejection, parseFeedback, parsePrediction, type Rejection } from './records.js';
import { RegisteredModels } from './registered-models.js';
import { WriteFailedError } from './write-errors.js';
import { createWriteScheduler, type RecordKind, type RecordsOfKind } from './write-scheduler.js';

export type { WriterHealth, WriterState } from './recorder-health.js';
export type { RecorderStats } from './recorder-stats.js';

export interface RecorderOptions {
  /** A URL (the recorder opens its own pool) or a pool to share. */
  databaseUrl?: string;
  pool?: pg.Pool;
  tenantId?: string;
  /** Rows per COPY. */
  batchSize?: number;
  /**
   * Prediction batches written at once, on separate connections, so Postgres works on one COPY while this
   * process prepares the next. Feedback batches always wait for them (see writer.ts on pairing).
   */
  concurrency?: number;
  /** A partial batch is written after this long. */
  flushIntervalMs?: number;
  /** Callers wait (back-pressure) once this many records are buffered, so memory stays bounded. */
  maxBuffered?: number;
  /** Width of a rollup time bucket. */
  bucketSeconds?: number;
  /** Write as the tenant role so Postgres row-level security enforces the tenant (see WriteOptions). */
  enforceTenant?: boolean;
  /** Reject records for models or versions that are not registered (default true). */
  validateModels?: boolean;
  /**
   * How long a record is retried while the database is unreachable (default 30 s). After that its durable
   * caller gets a WriteFailedError and `flush` rejects: the record is neither acknowledged nor kept.
   */
  retryForMs?: number;
  /**
   * Longest a statement of the recorder's own pool may run (server-side statement_timeout, default 30 s), so
   * a write stuck behind a lock or a lost connection ends as a transient failure instead of hanging.
   */
  writeTimeoutMs?: number;
  /** Plausibility window of the records' `at` (default 10 years back, 30 days ahead). */
  timeWindow?: TimeWindow;
  log?: Logger;
}

export interface BatchOutcome {
  /** Records accepted: for a durable call, stored (now or before, see duplicates); otherwise buffered. */
  accepted: number;
  /** Of the accepted records of a durable call, those already stored (a retried request). */
  duplicates: number;
  /** Every record not accepted, with its index in the batch, the field at fault and the reason. */
  rejected: Rejection[];
}

export interface AcceptOptions {
  /**
   * Resolve only once these records are in Postgres (the gateway answers clients this way, so a 200 means
   * stored), with the records the database refused among the rejections. Rejects with WriteFailedError
   * when they could not be written at all. Concurrent callers still share COPY batches.
   */
  durable?: boolean;
}

export interface FlushSummary {
  /** Records refused by the database among those flushed (counted and logged; see stats().refused). */
  refused: number;
}

export interface CloseOptions {
  /**
   * Give up on writes still running after this long: their durable callers get a WriteFailedError and the
   * pool is abandoned, so a stuck write cannot hold a shutdown. Without it, close waits for every record.
   */
  timeoutMs?: number;
}

export interface Recorder {
  /** Validates and buffers one prediction; resolves once buffered (waits when the buffer is full). */
  recordPrediction(input: unknown): Promise<void>;
  recordFeedback(input: unknown): Promise<void>;
  /** The batch form: invalid records come back with index, field and reason; the valid ones are kept. */
  recordPredictions(inputs: unknown[], options?: AcceptOptions): Promise<BatchOutcome>;
  recordFeedbackBatch(inputs: unknown[], options?: AcceptOptions): Promise<BatchOutcome>;
  /**
   * Writes everything buffered so far. Rejects with WriteFailedError when some of it could not be written
   * (the database unreachable past retryForMs, or refusing the write as a whole).
   */
  flush(): Promise<FlushSummary>;
  stats(): RecorderStats;
  health(): WriterHealth;
  close(options?: CloseOptions): Promise<void>;
}

export class RecordRejectedError extends Error {
  override name = 'RecordRejectedError';
  constructor(readonly rejection: Rejection) {
    super(`${rejection.field}: ${rejection.reason}`);
  }
}

/** Records validated between two turns of the event loop. */
const YIELD_EVERY = 1_000;

/**
 * createRecorder batches predictions and feedback and writes them with COPY (src/ingest/writer.ts), with
 * rollups updated in the same transaction. When the database is slow or down the buffer fills up to
 * `maxBuffered` and callers wait, so memory is bounded by that, not by volume.
 *
 * Every failed write is classified (write-errors.ts): a transient one is retried with jittered backoff for
 * at most `retryForMs` (bounded-retry.ts), then given up and reported; one caused by records is bisected
 * (bisect.ts) until the records at fault are found and refused with the database's reason, and the rest
 * stored; any other is reported at once. A retried batch never double-counts (idempotent keys), and
 * nothing is retried forever. When writes start is write-scheduler.ts's business.
 */
export function createRecorder(options: RecorderOptions): Recorder {
  if (!options.pool && !options.databaseUrl) throw new Error('createRecorder needs databaseUrl or pool');
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const writeTimeoutMs = options.writeTimeoutMs ?? 30_000;
  const pool =
    options.pool ??
    new pg.Pool({
      connectionString: options.databaseUrl,
      max: concurrency + 1,
      connectionTimeoutMillis: 5_000,
      statement_timeout: writeTimeoutMs,
      // Client side too: a server that stops answering (a lost network) never sends the timeout error.
      query_timeout: writeTimeoutMs + 5_000,
    });
  const ownPool = !options.pool;
  // A pooled client that errors while idle must not crash the process; the next write will retry.
  if (ownPool) pool.on('error', () => undefined);
  const tenantId = options.tenantId ?? 'default';
  const batchSize = options.batchSize ?? 5_000;
  const parseOptions = options.timeWindow ? { window: options.timeWindow } : {};
  const health = new WriterHealthTracker();
  const stats = emptyRecorderStats();
  const models = new RegisteredModels(pool, tenantId, health, options.validateModels ?? true);
  const scheduler = createWriteScheduler({
    pool,
    tenantId,
    batchSize,
    concurrency,
    flushIntervalMs: options.flushIntervalMs ?? 250,
    maxBuffered: options.maxBuffered ?? 50_000,
    writeOptions: {
      bucketMs: (options.bucketSeconds ?? 60) * 1000,
      enforceTenant: options.enforceTenant ?? false,
    },
    retry: new BoundedRetry(options.retryForMs ?? 30_000),
    health,
    stats,
    log: options.log,
  });
  let closed = false;

  const accept = async <K extends RecordKind>(
    kind: K,
    inputs: unknown[],
    /** A promise only when it must wait (the model registry's cache missed): most records cost no await. */
    validate: (
      input: unknown,
      index: number,
      now: Date,
    ) => RecordsOfKind[K] | Rejection | Promise<RecordsOfKind[K] | Rejection>,
    options: AcceptOptions,
  ): Promise<BatchOutcome> => {
    if (closed) throw new Error('recorder is closed');
    const rejected: Rejection[] = [];
    const valid: Array<{ record: RecordsOfKind[K]; index: number }> = [];
    const now = new Date();
    // Validate the whole batch before queuing any of it: if the registry cannot be read (the database is
    // down), the call fails with nothing of it queued, rather than half of it.
    for (let i = 0; i < inputs.length; i++) {
      // Validating a large batch takes milliseconds of this thread: let the running writes' replies in
      // meanwhile, so that PostgreSQL is not left waiting for its next statement.
      if (i > 0 && i % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const checked = validate(inputs[i], i, now);
      const r = checked instanceof Promise ? await checked : checked;
      if (isRejection(r)) rejected.push(r);
      else valid.push({ record: r, index: i });
    }
    stats.rejected += rejected.length;
    const ticket = options.durable ? newTicket() : undefined;
    for (const { record, index } of valid) {
      if (scheduler.full()) await scheduler.room();
      if (scheduler.abandoned())
        throw new WriteFailedError('not stored: the recorder is closing', 'closed', 1);
      // While writes are failing, a record's retry window starts when it is queued: it would otherwise wait
      // out the current backoff first and be retried for the whole window after that.
      const failingSince = health.state === 'ok' ? undefined : Date.now();
      if (ticket) ticket.pending += 1;
      scheduler.enqueue(kind, {
        record,
        index,
        tickets: ticket ? [ticket] : [],
        firstFailedAt: failingSince,
      });
    }
    stats.buffered = scheduler.buffered();
    if (!ticket) {
      scheduler.pump(false);
      return { accepted: valid.length, duplicates: 0, rejected };
    }
    // A durable caller waits for its records: send them now if a write slot is free (the gateway's 200
    // means stored, and the flush timer would add up to flushIntervalMs to every request). Under load the
    // slots are busy and records gather into the next batch (see write-scheduler.ts).
    await scheduler.wait(ticket);
    if (ticket.failure) throw ticket.failure;
    rejected.push(...ticket.refused);
    rejected.sort((a, b) => a.index - b.index);
    return { accepted: ticket.stored + ticket.duplicates, duplicates: ticket.duplicates, rejected };
  };

  const acceptPredictions = (inputs: unknown[], options: AcceptOptions = {}): Promise<BatchOutcome> =>
    accept(
      'predictions',
      inputs,
      (input, i, now) => {
        const parsed = parsePrediction(input, i, now, parseOptions);
        if (isRejection(parsed) || models.knowsPrediction(parsed)) return parsed;
        return models.checkPrediction(parsed, i).then((rejected) => rejected ?? parsed);
      },
      options,
    );

  const acceptFeedback = (inputs: unknown[], options: AcceptOptions = {}): Promise<BatchOutcome> =>
    accept(
      'feedback',
      inputs,
      (input, i, now) => {
        const parsed = parseFeedback(input, i, now, parseOptions);
        if (isRejection(parsed) || models.knowsFeedback(parsed)) return parsed;
        return models.checkFeedback(parsed, i).then((rejected) => rejected ?? parsed);
      },
      options,
    );

  const flush = async (): Promise<FlushSummary> => {
    const ticket = scheduler.ticketForAll();
    await scheduler.wait(ticket);
    if (ticket.failure)
      throw new WriteFailedError(
        `${ticket.failed} records could not be stored: ${ticket.failure.message}`,
        ticket.failure.kind,
        ticket.failed,
      );
    return { refused: ticket.refused.length };
  };

  return {
    async recordPrediction(input) {
      const { rejected } = await acceptPredictions([input]);
      if (rejected[0]) throw new RecordRejectedError(rejected[0]);
    },
    async recordFeedback(input) {
      const { rejected } = await acceptFeedback([input]);
      if (rejected[0]) throw new RecordRejectedError(rejected[0]);
    },
    recordPredictions: acceptPredictions,
    recordFeedbackBatch: acceptFeedback,
    flush,
    stats: () => ({ ...stats, buffered: scheduler.buffered() }),
    health: () => health.snapshot(),
    async close(closeOptions: CloseOptions = {}) {
      closed = true;
      let deadline: NodeJS.Timeout | undefined;
      try {
        if (closeOptions.timeoutMs === undefined) await flush();
        else {
          const timedOut = new Promise<'timeout'>((resolve) => {
            deadline = setTimeout(() => resolve('timeout'), closeOptions.timeoutMs);
          });
          const outcome = await Promise.race([flush().then(() => 'flushed' as const), timedOut]);
          if (outcome === 'timeout') scheduler.abandon();
        }
      } finally {
        if (deadline) clearTimeout(deadline);
        scheduler.stopTimer();
        if (ownPool) {
          // A stuck write keeps its client checked out, and pool.end() waits for it: do not wait past the
          // deadline (the statement_timeout ends that statement on the server).
          const ended = pool.end();
          if (scheduler.abandoned())
            await Promise.race([ended, new Promise((r) => setTimeout(r, 1_000).unref())]);
          else await ended;
        }
      }
    },
  };
}
