import pg from 'pg';
import type { Logger } from '../log.js';
import {
  isRejection,
  parseFeedback,
  parsePrediction,
  type Feedback,
  type Prediction,
  type Rejection,
} from './records.js';
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
  log?: Logger;
}

export interface BatchOutcome {
  accepted: number;
  rejected: Rejection[];
}

export interface AcceptOptions {
  /**
   * Resolve only once these records are in Postgres (the gateway answers clients this way, so a 200 means
   * stored). Concurrent callers still share COPY batches.
   */
  durable?: boolean;
}

export interface RecorderStats {
  buffered: number;
  written: number;
  duplicates: number;
  rejected: number;
  /** Records the database itself refused (after validation passed); logged with the reason. */
  dropped: number;
  flushes: number;
  feedbackWritten: number;
  lastError: string | undefined;
  /** Sizes of the most recent written batches (for metrics). */
  lastBatchSize: number;
}

export interface Recorder {
  /** Validates and buffers one prediction; resolves once buffered (waits when the buffer is full). */
  recordPrediction(input: unknown): Promise<void>;
  recordFeedback(input: unknown): Promise<void>;
  /** The batch form: invalid records come back with index, field and reason; the valid ones are kept. */
  recordPredictions(inputs: unknown[], options?: AcceptOptions): Promise<BatchOutcome>;
  recordFeedbackBatch(inputs: unknown[], options?: AcceptOptions): Promise<BatchOutcome>;
  /** Writes everything buffered so far. */
  flush(): Promise<void>;
  stats(): RecorderStats;
  close(): Promise<void>;
}

export class RecordRejectedError extends Error {
  override name = 'RecordRejectedError';
  constructor(readonly rejection: Rejection) {
    super(`${rejection.field}: ${rejection.reason}`);
  }
}

/**
 * createRecorder batches predictions and feedback and writes them with COPY (src/ingest/writer.ts), with
 * rollups updated in the same transaction. One write is in flight at a time; when the database is slow or
 * down the buffer fills up to `maxBuffered` and callers wait, so memory is bounded by that, not by volume.
 * Failed writes are retried with backoff; a retried batch never double-counts (idempotent keys).
 */
export function createRecorder(options: RecorderOptions): Recorder {
  if (!options.pool && !options.databaseUrl) throw new Error('createRecorder needs databaseUrl or pool');
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const pool = options.pool ?? new pg.Pool({ connectionString: options.databaseUrl, max: concurrency + 1 });
  const ownPool = !options.pool;
  // A pooled client that errors while idle must not crash the process; the next write will retry.
  if (ownPool) pool.on('error', () => undefined);
  const tenantId = options.tenantId ?? 'default';
  const batchSize = options.batchSize ?? 5_000;
  const flushIntervalMs = options.flushIntervalMs ?? 250;
  const maxBuffered = options.maxBuffered ?? 50_000;
  const bucketMs = (options.bucketSeconds ?? 60) * 1000;
  const validateModels = options.validateModels ?? true;
  const writeOptions = { bucketMs, enforceTenant: options.enforceTenant ?? false };
  const log = options.log;

  type Kind = 'predictions' | 'feedback';
  interface Queued<T> {
    seq: number;
    record: T;
  }
  const queues: { predictions: Array<Queued<Prediction>>; feedback: Array<Queued<Feedback>> } = {
    predictions: [],
    feedback: [],
  };
  // Each record gets a sequence number per kind. A durable caller waits until every record up to its last
  // one is done (written or dropped); batches can finish out of order, so "done" is a contiguous watermark.
  const nextSeq = { predictions: 0, feedback: 0 };
  const done = { predictions: new Set<number>(), feedback: new Set<number>() };
  const watermark = { predictions: 0, feedback: 0 };
  const durableWaiters: Array<{ kind: Kind; upTo: number; resolve: () => void }> = [];
  const markDone = (kind: Kind, seqs: number[]): void => {
    for (const s of seqs) done[kind].add(s);
    while (done[kind].delete(watermark[kind])) watermark[kind] += 1;
    for (let i = durableWaiters.length - 1; i >= 0; i--) {
      const w = durableWaiters[i]!;
      if (watermark[w.kind] >= w.upTo) {
        durableWaiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  const untilDone = (kind: Kind, upTo: number): Promise<void> =>
    watermark[kind] >= upTo
      ? Promise.resolve()
      : new Promise((resolve) => durableWaiters.push({ kind, upTo, resolve }));

  const inFlight = { predictions: 0, feedback: 0 };
  const writes = new Set<Promise<void>>();
  let closed = false;
  let backoffUntil = 0;
  let backoffMs = 100;
  let timer: NodeJS.Timeout | undefined;
  const roomWaiters: Array<() => void> = [];
  const stats: RecorderStats = {
    buffered: 0,
    written: 0,
    duplicates: 0,
    rejected: 0,
    dropped: 0,
    flushes: 0,
    feedbackWritten: 0,
    lastError: undefined,
    lastBatchSize: 0,
  };

  let known = new Map<string, Set<string>>();
  let knownLoadedAt = 0;
  const loadKnown = async (): Promise<void> => {
    const { rows } = await pool.query<{ model: string; version: string }>(
      'select model, version from model_versions where tenant_id = $1',
      [tenantId],
    );
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

  const buffered = (): number =>
    queues.predictions.length + queues.feedback.length + inFlight.predictions + inFlight.feedback;

  /**
   * A batch the database refuses for its content (data, integrity or privilege errors: SQLSTATE classes
   * 22, 23, 42) would fail forever; write its records one by one instead, so the good ones are kept and
   * only the ones Postgres rejects are dropped, counted and logged.
   */
  const isPermanent = (err: unknown): boolean => /^(22|23|42)/.test((err as { code?: string }).code ?? '');
  const writeTolerant = async <T>(
    batch: T[],
    write: (b: T[]) => Promise<WriteResult>,
  ): Promise<WriteResult> => {
    try {
      return await write(batch);
    } catch (err) {
      if (!isPermanent(err)) throw err;
      if (batch.length === 1) {
        stats.dropped += 1;
        log?.error(
          { err: (err as Error).message, record: batch[0] },
          'recorder: the database refused a record; dropped',
        );
        return { inserted: 0, duplicates: 0, rollupRows: 0 };
      }
      const total: WriteResult = { inserted: 0, duplicates: 0, rollupRows: 0 };
      for (const record of batch) {
        const r = await writeTolerant([record], write);
        total.inserted += r.inserted;
        total.duplicates += r.duplicates;
      }
      return total;
    }
  };

  const startWrite = <K extends Kind>(
    kind: K,
    items: K extends 'predictions' ? Array<Queued<Prediction>> : Array<Queued<Feedback>>,
  ): void => {
    inFlight[kind] += items.length;
    const records = items.map((i) => i.record);
    const write = (async () => {
      try {
        const r =
          kind === 'predictions'
            ? await writeTolerant(records as Prediction[], (b) =>
                writePredictions(pool, tenantId, b, writeOptions),
              )
            : await writeTolerant(records as Feedback[], (b) =>
                writeFeedback(pool, tenantId, b, writeOptions),
              );
        if (kind === 'predictions') {
          stats.written += r.inserted;
          stats.lastBatchSize = records.length;
        } else stats.feedbackWritten += r.inserted;
        stats.duplicates += r.duplicates;
        stats.flushes += 1;
        stats.lastError = undefined;
        backoffMs = 100;
        markDone(
          kind,
          items.map((i) => i.seq),
        );
      } catch (err) {
        // Transient (the database is down or slow): put the batch back at the front and retry after a pause.
        stats.lastError = (err as Error).message;
        log?.warn(
          { err: stats.lastError, buffered: buffered() },
          `recorder: write failed; retrying in ${backoffMs} ms`,
        );
        (queues[kind] as Array<Queued<unknown>>).unshift(...items);
        backoffUntil = Date.now() + backoffMs;
        backoffMs = Math.min(backoffMs * 2, 5_000);
      } finally {
        inFlight[kind] -= items.length;
        stats.buffered = buffered();
        while (roomWaiters.length && buffered() < maxBuffered) roomWaiters.shift()!();
      }
    })();
    writes.add(write);
    void write.finally(() => {
      writes.delete(write);
      // Group commit: whatever queued behind this write while a durable caller waits goes out now, as one
      // batch, instead of waiting for a full batch or the flush timer.
      pump(durableWaiters.length > 0);
    });
  };

  /** Starts the writes that may start now; `force` also sends partial batches (timer, flush, close). */
  const pump = (force: boolean): void => {
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

  const acceptPredictions = async (inputs: unknown[], options: AcceptOptions = {}): Promise<BatchOutcome> => {
    assertOpen();
    const rejected: Rejection[] = [];
    const now = new Date();
    let accepted = 0;
    for (let i = 0; i < inputs.length; i++) {
      const parsed = parsePrediction(inputs[i], i, now);
      const problem = isRejection(parsed) ? parsed : await checkRegistered(parsed, i);
      if (problem) {
        rejected.push(problem);
        continue;
      }
      await room();
      queues.predictions.push({ seq: nextSeq.predictions++, record: parsed as Prediction });
      accepted += 1;
      if (queues.predictions.length >= batchSize) pump(false);
    }
    stats.rejected += rejected.length;
    stats.buffered = buffered();
    // A durable caller waits for its records: send them now if a write slot is free (the gateway's 200
    // means stored, and the flush timer would add up to flushIntervalMs to every request). Under load the
    // slots are busy and records gather into the next batch (see startWrite).
    pump(Boolean(options.durable));
    if (options.durable) await untilDone('predictions', nextSeq.predictions);
    return { accepted, rejected };
  };

  const acceptFeedback = async (inputs: unknown[], options: AcceptOptions = {}): Promise<BatchOutcome> => {
    assertOpen();
    const rejected: Rejection[] = [];
    const now = new Date();
    let accepted = 0;
    for (let i = 0; i < inputs.length; i++) {
      const parsed = parseFeedback(inputs[i], i, now);
      if (isRejection(parsed)) {
        rejected.push(parsed);
        continue;
      }
      if (validateModels && !known.has(parsed.model)) {
        if (Date.now() - knownLoadedAt > 1_000) await loadKnown();
        if (!known.has(parsed.model)) {
          rejected.push({
            index: i,
            field: 'model',
            reason: `unknown model ${JSON.stringify(parsed.model)}`,
          });
          continue;
        }
      }
      await room();
      queues.feedback.push({ seq: nextSeq.feedback++, record: parsed });
      accepted += 1;
    }
    stats.rejected += rejected.length;
    stats.buffered = buffered();
    pump(Boolean(options.durable));
    if (options.durable) await untilDone('feedback', nextSeq.feedback);
    return { accepted, rejected };
  };

  /** Resolves once everything accepted so far is written (retrying while the database is unreachable). */
  const flush = async (): Promise<void> => {
    const target = { predictions: nextSeq.predictions, feedback: nextSeq.feedback };
    pump(true);
    await Promise.all([untilDone('predictions', target.predictions), untilDone('feedback', target.feedback)]);
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
    async close() {
      closed = true;
      await flush();
      if (timer) clearTimeout(timer);
      if (ownPool) await pool.end();
    },
  };
}
