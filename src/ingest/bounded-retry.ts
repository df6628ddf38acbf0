import { backoffDelay } from '../retry/backoff.js';

/** The outcome of a transient failure: when to retry, which records to retry, and which to give up. */
export interface RetryPlan<T> {
  delay: number;
  retry: T[];
  expired: T[];
}

/**
 * Jittered backoff between attempts of failed writes, bounded per record: a record is retried for at most
 * `retryForMs` after its first transient failure, so nothing is retried forever.
 */
export class BoundedRetry {
  private attempts = 0;
  private until = 0;
  private readonly maxBackoffMs: number;

  constructor(readonly retryForMs: number) {
    // A pause longer than a quarter of the retry window would let a record queued during it wait past its
    // window before its first attempt.
    this.maxBackoffMs = Math.min(5_000, Math.max(10, retryForMs / 4));
  }

  /** Milliseconds left of the current pause (zero or less: writes may start). */
  pauseLeft(): number {
    return this.until - Date.now();
  }

  succeeded(): void {
    this.attempts = 0;
  }

  /**
   * Starts the next pause. A record whose next attempt would come after its retryForMs window is given up
   * now (expired); the others are to be retried.
   */
  failed<T extends { firstFailedAt: number | undefined }>(items: T[]): RetryPlan<T> {
    const now = Date.now();
    this.attempts += 1;
    const delay = backoffDelay(this.attempts, {
      baseMs: Math.min(100, this.maxBackoffMs),
      maxMs: this.maxBackoffMs,
    });
    const retry: T[] = [];
    const expired: T[] = [];
    for (const item of items) {
      item.firstFailedAt ??= now;
      (now + delay - item.firstFailedAt >= this.retryForMs ? expired : retry).push(item);
    }
    this.until = now + delay;
    return { delay, retry, expired };
  }
}
