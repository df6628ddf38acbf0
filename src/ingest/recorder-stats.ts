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

export function emptyRecorderStats(): RecorderStats {
  return {
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
}
