import pg from 'pg';
import type { Logger } from '../log.js';
import { backoffDelay } from '../retry/backoff.js';
import type { TimeWindow } from './limits.js';
import {
  isRejection,
  parseFeedback,
  parsePrediction,
  type Feedback,
  type Prediction,
  type Rejection,
} from './records.js';
import {
  WriteFailedError,
  classifyWriteError,
  describeWriteError,
  type WriteErrorKind,
} from './write-errors.js';
import { writeFeedback, writePredictions, type WriteResult } from './writer.js';

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

export type WriterState = 'ok' | 'retrying' | 'failing';

export interface WriterHealth {
  /** ok; retrying (the last write failed transiently and is being retried); failing (records were given up). */
  state: WriterState;
  reason: string | undefined;
  /** When the current state began (ISO), for retrying and failing. */
  since: string | undefined;
}

export interface RecorderStats {
  buffered: number;
  written: number;
  duplicates: number;
  /** Records refused by validation. */
  rejected: number;
  /** Records the database refused after validation passed (found by bisecting the batch); logged. */
  refused: number;
  /** Records given up on: the database stayed unreachable past retryForMs, or refused the whole write. */
  failed: number;
  flushes: number;
  feedbackWritten: number;
  lastError: string | undefined;
  /** Sizes of the most recent written batches (for metrics). */
  lastBatchSize: number;
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

type Kind = 'predictions' | 'feedback';

/** What became of one record once its write finished. */
type Settlement =
  | { kind: 'stored' }
  | { kind: 'duplicate' }
  | { kind: 'refused'; field: string; reason: string }
  | { kind: 'failed'; error: WriteFailedError };

/** A caller waiting for a set of records (a durable batch, or a flush). */
interface Ticket {
  pending: number;
  sealed: boolean;
  stored: number;
  duplicates: number;
  refused: Rejection[];
  failure: WriteFailedError | undefined;
  failed: number;
  done: Promise<void>;
  resolve: () => void;
}

interface Queued<T> {
  record: T;
  /** Index in the caller's batch, for the rejection of a record the database refuses. */
  index: number;
  tickets: Ticket[];
  /** When a write of this record first failed transiently: retries stop retryForMs after it. */
  firstFailedAt: number | undefined;
}

const COLUMN_FIELDS: Record<string, string> = {
  request_id: 'requestId',
  unit_id: 'unitId',
  latency_ms: 'latencyMs',
  error_code: 'errorCode',
  features_hash: 'featuresHash',
  rollout_id: 'rolloutId',
};

function newTicket(): Ticket {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return {
    pending: 0,
    sealed: false,
    stored: 0,
    duplicates: 0,
    refused: [],
    failure: undefined,
    failed: 0,
    done,
    resolve,
  };
}

function maybeResolve(t: Ticket): void {
  if (t.sealed && t.pending === 0) t.resolve();
}

/**
 * createRecorder batches predictions and feedback and writes them with COPY (src/ingest/writer.ts), with
 * rollups updated in the same transaction. When the database is slow or down the buffer fills up to
 * `maxBuffered` and callers wait, so memory is bounded by that, not by volume.
 *
 * Every failed write is classified (write-errors.ts): a transient one is retried with jittered backoff for
 * at most `retryForMs`, then given up and reported; one caused by records is bisected until the records at
 * fault are found and refused with the database's reason, and the rest stored; any other is reported at
 * once. A retried batch never double-counts (idempotent keys), and nothing is retried forever.
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
  const flushIntervalMs = options.flushIntervalMs ?? 250;
  const maxBuffered = options.maxBuffered ?? 50_000;
  const bucketMs = (options.bucketSeconds ?? 60) * 1000;
  const validateModels = options.validateModels ?? true;
  const retryForMs = options.retryForMs ?? 30_000;
  // A pause longer than a quarter of the retry window would let a record queued during it wait past its
  // window before its first attempt.
  const maxBackoffMs = Math.min(5_000, Math.max(10, retryForMs / 4));
  const parseOptions = options.timeWindow ? { window: options.timeWindow } : {};
  const writeOptions = { bucketMs, enforceTenant: options.enforceTenant ?? false };
  const log = options.log;

  const queues: { predictions: Array<Queued<Prediction>>; feedback: Array<Queued<Feedback>> } = {
    predictions: [],
    feedback: [],
  };
  const inFlight = new Set<Queued<unknown>>();
  const writes = new Set<Promise<void>>();
  /** Durable callers and flushes still waiting: while any is, writes go out at once (group commit). */
  let waiting = 0;
  let closed = false;
  /** Set when close gave up on running writes: nothing new starts. */
  let abandoned = false;
  let backoffUntil = 0;
  let transientAttempts = 0;
  let timer: NodeJS.Timeout | undefined;
  const roomWaiters: Array<() => void> = [];
  let health: WriterHealth = { state: 'ok', reason: undefined, since: undefined };
  const setHealth = (state: WriterState, reason?: string): void => {
    if (state === 'ok') health = { state, reason: undefined, since: undefined };
    else
      health = {
        state,
        reason,
        since: health.state === state && health.since ? health.since : new Date().toISOString(),
      };
  };
  const stats: RecorderStats = {
    buffered: 0,
    written: 0,
    duplicates: 0,
    rejected: 0,
    refused: 0,
    failed: 0,
    flushes: 0,
    feedbackWritten: 0,
    lastError: undefined,
    lastBatchSize: 0,
  };

  let known = new Map<string, Set<string>>();
  let knownLoadedAt = 0;
  const REGISTRY = 'cannot read the model registry: ';
  const loadKnown = async (): Promise<void> => {
    // A failure here (the database down before any write) makes the writer unhealthy too, so /healthz
    // shows it; the next successful read or write clears it.
    const { rows } = await pool
      .query<{ model: string; version: string }>(
        'select model, version from model_versions where tenant_id = $1',
        [tenantId],
      )
      .catch((err: unknown) => {
        setHealth('failing', `${REGISTRY}${describeWriteError(err)}`);
        throw err;
      });
    if (health.reason?.startsWith(REGISTRY)) setHealth('ok');
    const next = new Map<string, Set<string>>();
    for (const r of rows) (next.get(r.model) ?? next.set(r.model, new Set()).get(r.model)!).add(r.version);
    known = next;
    knownLoadedAt = Date.now();
  };

  const checkRegistered = async (p: Prediction, index: number): Promise<Rejection | undefined> => {
    if (!validateModels) return undefined;
    if (known.get(p.model)?.has(p.version)) return undefined;
    // A model registered a moment ago: reload, but at most once a second however many unknowns arrive.
    if (Date.now() - knownLoadedAt > 1_000) await loadKnown();
    if (!known.has(p.model))
      return { index, field: 'model', reason: `unknown model ${JSON.stringify(p.model)}` };
    if (!known.get(p.model)!.has(p.version)) {
      return { index, field: 'version', reason: `model ${p.model} has no registered version ${p.version}` };
    }
    return undefined;
  };

  const buffered = (): number => queues.predictions.length + queues.feedback.length + inFlight.size;

  const settle = (item: Queued<unknown>, s: Settlement): void => {
    for (const t of item.tickets) {
      t.pending -= 1;
      if (s.kind === 'stored') t.stored += 1;
      else if (s.kind === 'duplicate') t.duplicates += 1;
      else if (s.kind === 'refused') t.refused.push({ index: item.index, field: s.field, reason: s.reason });
      else {
        t.failed += 1;
        t.failure ??= s.error;
      }
      maybeResolve(t);
    }
    item.tickets = [];
  };

  /**
   * Writes a batch; when the records make it fail, splits it in halves until the records at fault are
   * alone, so one bad record in 5,000 costs about 2·log₂(5,000) ≈ 25 writes instead of 5,000. Transient
   * and batch-wide errors propagate to the caller.
   */
  const writeBisecting = async <T>(
    batch: T[],
    write: (b: T[]) => Promise<WriteResult>,
  ): Promise<Settlement[]> => {
    try {
      const r = await write(batch);
      return r.fresh.map((fresh): Settlement => (fresh ? { kind: 'stored' } : { kind: 'duplicate' }));
    } catch (err) {
      if (classifyWriteError(err) !== 'record') throw err;
      if (batch.length === 1) {
        const column = (err as { column?: unknown }).column;
        const field = typeof column === 'string' ? (COLUMN_FIELDS[column] ?? column) : '(record)';
        return [{ kind: 'refused', field, reason: `the database refused it: ${describeWriteError(err)}` }];
      }
      const mid = batch.length >>> 1;
      const left = await writeBisecting(batch.slice(0, mid), write);
      const right = await writeBisecting(batch.slice(mid), write);
      return [...left, ...right];
    }
  };

  const startWrite = <K extends Kind>(
    kind: K,
    items: K extends 'predictions' ? Array<Queued<Prediction>> : Array<Queued<Feedback>>,
  ): void => {
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
        transientAttempts = 0;
        setHealth('ok');
      } catch (err) {
        const errorKind: WriteErrorKind = classifyWriteError(err);
        const reason = describeWriteError(err);
        stats.lastError = reason;
        // After close gave up on this write its records were already failed; nothing more to tell.
        if (abandoned) return;
        if (errorKind === 'transient') {
          // Put the records back at the front and retry after a jittered pause. A record whose next
          // attempt would come after its retryForMs window is given up now and its callers told.
          const now = Date.now();
          transientAttempts += 1;
          const delay = backoffDelay(transientAttempts, {
            baseMs: Math.min(100, maxBackoffMs),
            maxMs: maxBackoffMs,
          });
          const retry: Array<Queued<unknown>> = [];
          const expired: Array<Queued<unknown>> = [];
          for (const item of items as Array<Queued<unknown>>) {
            item.firstFailedAt ??= now;
            (now + delay - item.firstFailedAt >= retryForMs ? expired : retry).push(item);
          }
          (queues[kind] as Array<Queued<unknown>>).unshift(...retry);
          backoffUntil = now + delay;
          setHealth(expired.length > 0 ? 'failing' : 'retrying', reason);
          log?.warn(
            { err: reason, tenantId, buffered: buffered(), givenUp: expired.length },
            `recorder: write failed; retrying in ${delay} ms`,
          );
          failItems(
            expired,
            new WriteFailedError(
              `not stored: the database was unreachable for ${Math.round(retryForMs / 1000)} s (${reason})`,
              'transient',
              expired.length,
            ),
          );
        } else {
          setHealth('failing', reason);
          log?.error(
            { err: reason, tenantId, records: items.length },
            'recorder: the database refused a write',
          );
          failItems(
            items as Array<Queued<unknown>>,
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

  /** Starts the writes that may start now; `force` also sends partial batches (timer, flush, close). */
  const pump = (force: boolean): void => {
    if (abandoned) return;
    const wait = backoffUntil - Date.now();
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

  const room = async (): Promise<void> => {
    while (buffered() >= maxBuffered) {
      pump(true);
      await new Promise<void>((resolve) => roomWaiters.push(resolve));
    }
  };

  const assertOpen = (): void => {
    if (closed) throw new Error('recorder is closed');
  };

  /** Waits for a ticket's records; the ticket counts as a waiter meanwhile (group commit). */
  const wait = async (ticket: Ticket): Promise<void> => {
    ticket.sealed = true;
    maybeResolve(ticket);
    waiting += 1;
    try {
      pump(true);
      await ticket.done;
    } finally {
      waiting -= 1;
    }
  };

  const accept = async <T>(
    kind: Kind,
    inputs: unknown[],
    validate: (input: unknown, index: number, now: Date) => Promise<T | Rejection>,
    options: AcceptOptions,
  ): Promise<BatchOutcome> => {
    assertOpen();
    const rejected: Rejection[] = [];
    const valid: Array<{ record: T; index: number }> = [];
    const now = new Date();
    // Validate the whole batch before queuing any of it: if the registry cannot be read (the database is
    // down), the call fails with nothing of it queued, rather than half of it.
    for (let i = 0; i < inputs.length; i++) {
      const r = await validate(inputs[i], i, now);
      if (isRejection(r as object)) rejected.push(r as Rejection);
      else valid.push({ record: r as T, index: i });
    }
    stats.rejected += rejected.length;
    const ticket = options.durable ? newTicket() : undefined;
    const queue = queues[kind] as Array<Queued<T>>;
    for (const { record, index } of valid) {
      await room();
      if (abandoned) throw new WriteFailedError('not stored: the recorder is closing', 'closed', 1);
      // While writes are failing, a record's retry window starts when it is queued: it would otherwise wait
      // out the current backoff first and be retried for the whole window after that.
      const failingSince = health.state === 'ok' ? undefined : Date.now();
      queue.push({ record, index, tickets: ticket ? [ticket] : [], firstFailedAt: failingSince });
      if (ticket) ticket.pending += 1;
      if (queue.length >= batchSize) pump(false);
    }
    stats.buffered = buffered();
    if (!ticket) {
      pump(false);
      return { accepted: valid.length, duplicates: 0, rejected };
    }
    // A durable caller waits for its records: send them now if a write slot is free (the gateway's 200
    // means stored, and the flush timer would add up to flushIntervalMs to every request). Under load the
    // slots are busy and records gather into the next batch (see startWrite).
    await wait(ticket);
    if (ticket.failure) throw ticket.failure;
    rejected.push(...ticket.refused);
    rejected.sort((a, b) => a.index - b.index);
    return { accepted: ticket.stored + ticket.duplicates, duplicates: ticket.duplicates, rejected };
  };

  const acceptPredictions = (inputs: unknown[], options: AcceptOptions = {}): Promise<BatchOutcome> =>
    accept<Prediction>(
      'predictions',
      inputs,
      async (input, i, now) => {
        const parsed = parsePrediction(input, i, now, parseOptions);
        return isRejection(parsed) ? parsed : ((await checkRegistered(parsed, i)) ?? parsed);
      },
      options,
    );

  const acceptFeedback = (inputs: unknown[], options: AcceptOptions = {}): Promise<BatchOutcome> =>
    accept<Feedback>(
      'feedback',
      inputs,
      async (input, i, now) => {
        const parsed = parseFeedback(input, i, now, parseOptions);
        if (isRejection(parsed) || !validateModels || known.has(parsed.model)) return parsed;
        if (Date.now() - knownLoadedAt > 1_000) await loadKnown();
        if (known.has(parsed.model)) return parsed;
        return { index: i, field: 'model', reason: `unknown model ${JSON.stringify(parsed.model)}` };
      },
      options,
    );

  /** A ticket over every record buffered or being written now. */
  const ticketForAll = (): Ticket => {
    const ticket = newTicket();
    const all: Array<Queued<unknown>> = [...queues.predictions, ...queues.feedback, ...inFlight];
    for (const item of all) {
      item.tickets.push(ticket);
      ticket.pending += 1;
    }
    return ticket;
  };

  const flush = async (): Promise<FlushSummary> => {
    const ticket = ticketForAll();
    await wait(ticket);
    if (ticket.failure)
      throw new WriteFailedError(
        `${ticket.failed} records could not be stored: ${ticket.failure.message}`,
        ticket.failure.kind,
        ticket.failed,
      );
    return { refused: ticket.refused.length };
  };

  /** Gives up on everything not yet written: its callers get an error, and nothing new starts. */
  const abandon = (): void => {
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
    stats: () => ({ ...stats, buffered: buffered() }),
    health: () => ({ ...health }),
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
          if (outcome === 'timeout') abandon();
        }
      } finally {
        if (deadline) clearTimeout(deadline);
        if (timer) clearTimeout(timer);
        if (ownPool) {
          // A stuck write keeps its client checked out, and pool.end() waits for it: do not wait past the
          // deadline (the statement_timeout ends that statement on the server).
          const ended = pool.end();
          if (abandoned) await Promise.race([ended, new Promise((r) => setTimeout(r, 1_000).unref())]);
          else await ended;
        }
      }
    },
  };
}
