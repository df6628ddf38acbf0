import type { Rejection } from './records.js';
import type { WriteFailedError } from './write-errors.js';

/** What became of one record once its write finished. */
export type Settlement =
  | { kind: 'stored' }
  | { kind: 'duplicate' }
  | { kind: 'refused'; field: string; reason: string }
  | { kind: 'failed'; error: WriteFailedError };

/** A caller waiting for a set of records (a durable batch, or a flush). */
export interface Ticket {
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

/** A record waiting to be written, or being written, with the tickets that wait for it. */
export interface Queued<T> {
  record: T;
  /** Index in the caller's batch, for the rejection of a record the database refuses. */
  index: number;
  tickets: Ticket[];
  /** When a write of this record first failed transiently: retries stop retryForMs after it. */
  firstFailedAt: number | undefined;
}

export function newTicket(): Ticket {
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

/** A ticket resolves once sealed (no more records join it) and none of its records is pending. */
export function maybeResolve(t: Ticket): void {
  if (t.sealed && t.pending === 0) t.resolve();
}

/** Tells every ticket of a record what became of it; the record then belongs to no ticket. */
export function settle(item: Queued<unknown>, s: Settlement): void {
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
}

/** A ticket over the given records (everything buffered or being written, for a flush). */
export function ticketFor(items: Iterable<Queued<unknown>>): Ticket {
  const ticket = newTicket();
  for (const item of items) {
    item.tickets.push(ticket);
    ticket.pending += 1;
  }
  return ticket;
}
