export type WriterState = 'ok' | 'retrying' | 'failing';

export interface WriterHealth {
  /** ok; retrying (the last write failed transiently and is being retried); failing (records were given up). */
  state: WriterState;
  reason: string | undefined;
  /** When the current state began (ISO), for retrying and failing. */
  since: string | undefined;
}

/** The recorder's writer health, as /healthz reports it. */
export class WriterHealthTracker {
  private current: WriterHealth = { state: 'ok', reason: undefined, since: undefined };

  get state(): WriterState {
    return this.current.state;
  }

  get reason(): string | undefined {
    return this.current.reason;
  }

  /** Staying in the same non-ok state keeps its `since`, so it tells how long the trouble has lasted. */
  set(state: WriterState, reason?: string): void {
    const health = this.current;
    if (state === 'ok') this.current = { state, reason: undefined, since: undefined };
    else
      this.current = {
        state,
        reason,
        since: health.state === state && health.since ? health.since : new Date().toISOString(),
      };
  }

  snapshot(): WriterHealth {
    return { ...this.current };
  }
}
