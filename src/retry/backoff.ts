/**
 * Exponential backoff with jitter, for every loop that retries or reconnects to a shared service (the
 * router's LISTEN connection, webhook deliveries, the recorder's writes). Without jitter, clients that
 * failed together retry together: after a Postgres restart every router reconnects at the same instants.
 *
 * "Equal jitter" (the default): the ceiling for this attempt is min(maxMs, baseMs·2^(attempt−1)), and the
 * delay is uniform in [ceiling/2, ceiling) — spread out, but never much shorter than the schedule intends.
 * "Full jitter" draws from [0, ceiling): the widest spread, for loops where an immediate retry is harmless.
 *
 * Not for workflow code: Math.random is not deterministic there (a workflow sleeps a fixed time, or lets a
 * Temporal retry policy do the backing off).
 */
export interface BackoffOptions {
  /** The ceiling of the first retry's delay, in milliseconds. */
  baseMs: number;
  /** The largest ceiling, in milliseconds. */
  maxMs: number;
  /** 'equal' (default): uniform in [ceiling/2, ceiling); 'full': uniform in [0, ceiling). */
  jitter?: 'equal' | 'full';
  /** A source of uniform numbers in [0, 1); Math.random unless a test passes its own. */
  random?: () => number;
}

/**
 * The delay in whole milliseconds before retry number `attempt` (1 for the first retry; anything below 1 is
 * taken as 1). Never negative, never above maxMs, never NaN, however many attempts have been made.
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const { baseMs, maxMs, jitter = 'equal', random = Math.random } = options;
  if (!(Number.isFinite(baseMs) && baseMs >= 0 && Number.isFinite(maxMs) && maxMs >= baseMs))
    throw new RangeError(`backoffDelay: need 0 <= baseMs <= maxMs, both finite (got ${baseMs}, ${maxMs})`);
  // Past 2^53 the doubling has long reached any finite maxMs; clamping keeps 2 ** n finite.
  const n = Number.isFinite(attempt) ? Math.min(Math.max(Math.floor(attempt), 1), 1024) : 1024;
  const ceiling = Math.min(maxMs, baseMs * 2 ** (n - 1));
  const r = Math.min(Math.max(random(), 0), 1);
  const delay = jitter === 'full' ? r * ceiling : ceiling / 2 + (r * ceiling) / 2;
  return Math.min(Math.floor(delay), maxMs);
}
