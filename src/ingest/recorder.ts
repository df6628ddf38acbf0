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
  const pool = options.pool ?? new pg.Pool({ connectionString: options.databaseUrl, max: 3 });
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

  let predictions: Prediction[] = [];
  let feedback: Feedback[] = [];
  // Monotonic counts of records queued and of records taken off the queue (written or dropped), per kind;
  // a durable caller waits until the drained count passes the position of its last record.
  const queued = { predictions: 0, feedback: 0 };
  const drained = { predictions: 0, feedback: 0 };
  const durableWaiters: Array<{ kind: 'predictions' | 'feedback'; upTo: number; resolve: () => void }> = [];
  const releaseDurable = (): void => {
    for (let i = durableWaiters.length - 1; i >= 0; i--) {
      const w = durableWaiters[i]!;
      if (drained[w.kind] >= w.upTo) {
        durableWaiters.splice(i, 1);
        w.resolve();
      }
    }
  };
  const untilDrained = (kind: 'predictions' | 'feedback', upTo: number): Promise<void> =>
    drained[kind] >= upTo
      ? Promise.resolve()
      : new Promise((resolve) => durableWaiters.push({ kind, upTo, resolve }));
  let writing: Promise<void> | undefined;
  let closed = false;
  let backoffMs = 100;
  const waiters: Array<() => void> = [];
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

  const buffered = (): number => predictions.length + feedback.length;

  const schedule = (): void => {
    if (writing) return;
    if (buffered() === 0) return;
    const full = predictions.length >= batchSize || feedback.length >= batchSize;
    writing = (async () => {
      if (!full && !closed) await new Promise((r) => setTimeout(r, flushIntervalMs));
      await drainOnce();
    })().finally(() => {
      writing = undefined;
      if (buffered() > 0) schedule();
    });
  };

  /**
   * A batch the database refuses for its content (data, integrity or privilege errors: SQLSTATE classes
   * 22, 23, 42) would fail forever; write its records one by one instead, so the good ones are kept and
   * only the ones Postgres rejects are dropped, counted and logged.
   */
  const isPermanent = (err: unknown): boolean => /^(22|23|42)/.test((err as { code?: string }).code ?? '');
  const writeOneByOne = async <T>(
    batch: T[],
    write: (one: T[]) => Promise<WriteResult>,
  ): Promise<WriteResult> => {
    const total: WriteResult = { inserted: 0, duplicates: 0, rollupRows: 0 };
    for (const record of batch) {
      try {
        const r = await write([record]);
        total.inserted += r.inserted;
        total.duplicates += r.duplicates;
      } catch (err) {
        if (!isPermanent(err)) throw err;
        stats.dropped += 1;
        log?.error(
          { err: (err as Error).message, record },
          'recorder: the database refused a record; dropped',
        );
      }
    }
    return total;
  };
  const writeBatch = async <T>(batch: T[], write: (b: T[]) => Promise<WriteResult>): Promise<WriteResult> => {
    try {
      return await write(batch);
    } catch (err) {
      if (!isPermanent(err) || batch.length === 1) {
        if (isPermanent(err)) {
          stats.dropped += 1;
          log?.error(
            { err: (err as Error).message, record: batch[0] },
            'recorder: the database refused a record; dropped',
          );
          return { inserted: 0, duplicates: 0, rollupRows: 0 };
        }
        throw err;
      }
      return writeOneByOne(batch, write);
    }
  };

  const drainOnce = async (): Promise<void> => {
    // Predictions first, so feedback in the same cycle finds the predictions it belongs to.
    const pBatch = predictions.slice(0, batchSize);
    const fBatch = pBatch.length < batchSize ? feedback.slice(0, batchSize) : [];
    try {
      if (pBatch.length) {
        const r = await writeBatch(pBatch, (b) => writePredictions(pool, tenantId, b, writeOptions));
        predictions = predictions.slice(pBatch.length);
        drained.predictions += pBatch.length;
        stats.written += r.inserted;
        stats.duplicates += r.duplicates;
        stats.lastBatchSize = pBatch.length;
      }
      if (fBatch.length) {
        const r = await writeBatch(fBatch, (b) => writeFeedback(pool, tenantId, b, writeOptions));
        feedback = feedback.slice(fBatch.length);
        drained.feedback += fBatch.length;
        stats.feedbackWritten += r.inserted;
        stats.duplicates += r.duplicates;
      }
      stats.flushes += 1;
      stats.lastError = undefined;
      backoffMs = 100;
    } catch (err) {
      stats.lastError = (err as Error).message;
      log?.warn(
        { err: stats.lastError, buffered: buffered() },
        `recorder: write failed; retrying in ${backoffMs} ms`,
      );
      await new Promise((r) => setTimeout(r, backoffMs));
      backoffMs = Math.min(backoffMs * 2, 5_000);
    } finally {
      stats.buffered = buffered();
      while (waiters.length && buffered() < maxBuffered) waiters.shift()!();
      releaseDurable();
    }
  };

  const room = async (): Promise<void> => {
    while (buffered() >= maxBuffered) {
      schedule();
      await new Promise<void>((resolve) => waiters.push(resolve));
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
      predictions.push(parsed as Prediction);
      queued.predictions += 1;
      accepted += 1;
    }
    stats.rejected += rejected.length;
    stats.buffered = buffered();
    schedule();
    if (options.durable) await untilDrained('predictions', queued.predictions);
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
      feedback.push(parsed);
      queued.feedback += 1;
      accepted += 1;
    }
    stats.rejected += rejected.length;
    stats.buffered = buffered();
    schedule();
    if (options.durable) await untilDrained('feedback', queued.feedback);
    return { accepted, rejected };
  };

  const flush = async (): Promise<void> => {
    while (buffered() > 0 || writing) {
      if (writing) await writing;
      else await drainOnce();
    }
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
      if (ownPool) await pool.end();
    },
  };
}
