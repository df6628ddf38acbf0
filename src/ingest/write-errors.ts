/**
 * What a failed write means, so the recorder knows whether to retry it, charge it to records, or give up:
 *
 * - `transient`: the database could not be reached or gave up on this attempt (connection lost or refused,
 *   shutdown, serialisation failure, deadlock, statement timeout, out of resources). The same write may
 *   succeed later: retried with jittered backoff, for a bounded time.
 * - `record`: something in the records made the write fail (a data or integrity error from PostgreSQL,
 *   SQLSTATE classes 22 and 23 and 54, or any error thrown before the database saw the batch, such as a
 *   value that cannot be serialised). Retrying the same batch would fail forever; the recorder bisects it
 *   to find the records at fault and refuses only those.
 * - `batch`: the database refused the write for a reason no record causes (privileges, a missing table, an
 *   internal error). Not retried and not charged to records: the caller gets an error.
 */
export type WriteErrorKind = 'transient' | 'record' | 'batch';

const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57', '58']);
const TRANSIENT_SQLSTATES = new Set(['55P03', '55006']);
const RECORD_SQLSTATE_CLASSES = new Set(['22', '23', '54']);
const TRANSIENT_SYSTEM_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
// node-postgres reports a lost or timed-out connection with these messages and no code; knex says it could
// not get a connection from its pool in time (the database is down or saturated).
const TRANSIENT_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection error|terminating connection|the database system is (starting up|shutting down|in recovery mode)|Timeout acquiring a connection/i;

const SQLSTATE = /^[0-9A-Z]{5}$/;

export function classifyWriteError(err: unknown): WriteErrorKind {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  if (SQLSTATE.test(code)) {
    if (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) return 'transient';
    if (RECORD_SQLSTATE_CLASSES.has(code.slice(0, 2))) return 'record';
    return 'batch';
  }
  if (TRANSIENT_SYSTEM_CODES.has(code)) return 'transient';
  const message = err instanceof Error ? err.message : String(err);
  if (TRANSIENT_MESSAGES.test(message)) return 'transient';
  // Anything else was thrown by this process while preparing the records (a RangeError, a TypeError): it
  // follows the records, not the database.
  return 'record';
}

/** Whether an error means the database is unreachable or unavailable right now (answer 503, not 500). */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : '';
  if (SQLSTATE.test(code)) return code.startsWith('08') || code.startsWith('57') || code.startsWith('53');
  if (TRANSIENT_SYSTEM_CODES.has(code)) return true;
  return TRANSIENT_MESSAGES.test(err instanceof Error ? err.message : String(err));
}

/** The database's words with its SQLSTATE, for a rejection reason or a log line. */
export function describeWriteError(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; detail?: unknown; column?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' && SQLSTATE.test(e.code) ? ` (SQLSTATE ${e.code})` : '';
  return `${message}${code}`.slice(0, 500);
}

/**
 * Raised to a durable caller whose records could not be stored: the database stayed unreachable past the
 * retry bound, or refused the write for a reason no record causes. Nothing of that request was
 * acknowledged; sending it again is safe, since stored records are recognised by their keys.
 */
export class WriteFailedError extends Error {
  override name = 'WriteFailedError';
  constructor(
    message: string,
    readonly kind: 'transient' | 'batch' | 'closed',
    readonly failed: number,
  ) {
    super(message);
  }
}
