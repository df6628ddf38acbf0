import type { Settlement } from './recorder-tickets.js';
import { classifyWriteError, describeWriteError } from './write-errors.js';
import type { WriteResult } from './writer.js';

/** Database column names to the record fields a caller knows, for the rejection of a refused record. */
const COLUMN_FIELDS: Record<string, string> = {
  request_id: 'requestId',
  unit_id: 'unitId',
  latency_ms: 'latencyMs',
  error_code: 'errorCode',
  features_hash: 'featuresHash',
  rollout_id: 'rolloutId',
};

/**
 * Writes a batch; when the records make it fail, splits it in halves until the records at fault are
 * alone, so one bad record in 5,000 costs about 2·log₂(5,000) ≈ 25 writes instead of 5,000. Transient
 * and batch-wide errors propagate to the caller.
 */
export async function writeBisecting<T>(
  batch: T[],
  write: (b: T[]) => Promise<WriteResult>,
): Promise<Settlement[]> {
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
}
