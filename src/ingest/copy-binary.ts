import type pg from 'pg';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { from as copyFrom } from 'pg-copy-streams';

/** PGCOPY\n\377\r\n\0, then flags and the header extension's length (both 0). */
const HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
/** Milliseconds from the Unix epoch to PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;
const PG_EPOCH_DAY = 10_957;
const TWO_32 = 4_294_967_296;

/**
 * Rows in PostgreSQL's binary COPY format, written into one growing buffer. Why by hand: PostgreSQL parses
 * binary numbers, times and dates without their text forms, which took about a third of its time on a COPY
 * of predictions (measured: 1M rows, 3.7 s binary against 5.4 s CSV); pg-copy-streams-binary, the library
 * for it, encodes each row into a buffer of its own and pushes it through an object-mode stream, which costs
 * this process more than PostgreSQL saves. The format: https://www.postgresql.org/docs/current/sql-copy.html.
 */
export class BinaryRows {
  private buf = Buffer.allocUnsafe(1 << 16);
  private pos = 0;

  constructor() {
    this.put(HEADER);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (this.pos + n > size) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private put(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  row(fields: number): this {
    this.room(2);
    this.pos = this.buf.writeInt16BE(fields, this.pos);
    return this;
  }

  null(): this {
    this.room(4);
    this.pos = this.buf.writeInt32BE(-1, this.pos);
    return this;
  }

  text(value: string | null): this {
    if (value === null) return this.null();
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    this.room(4 + value.length * 3);
    const n = this.buf.write(value, this.pos + 4, 'utf8');
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
    return this;
  }

  /** jsonb's binary form is a version byte (1) and the JSON text. */
  jsonb(json: string | null): this {
    if (json === null) return this.null();
    this.room(5 + json.length * 3);
    const n = this.buf.write(json, this.pos + 5, 'utf8');
    this.buf.writeInt32BE(n + 1, this.pos);
    this.buf[this.pos + 4] = 1;
    this.pos += 5 + n;
    return this;
  }

  float8(value: number | null): this {
    if (value === null) return this.null();
    this.room(12);
    this.pos = this.buf.writeInt32BE(8, this.pos);
    this.pos = this.buf.writeDoubleBE(value, this.pos);
    return this;
  }

  bool(value: boolean): this {
    this.room(5);
    this.pos = this.buf.writeInt32BE(1, this.pos);
    this.buf[this.pos++] = value ? 1 : 0;
    return this;
  }

  /** Microseconds since 2000-01-01 as a signed 64-bit integer (exact: a Date has whole milliseconds). */
  timestamptz(at: Date): this {
    const ms = at.getTime() - PG_EPOCH_MS;
    const micros = ms * 1000;
    this.room(12);
    this.pos = this.buf.writeInt32BE(8, this.pos);
    // Past 2^53 µs (about 285 years from 2000) a double is no longer exact: a bigint is, at a cost.
    if (!Number.isSafeInteger(micros)) {
      this.pos = this.buf.writeBigInt64BE(BigInt(ms) * 1000n, this.pos);
      return this;
    }
    const high = Math.floor(micros / TWO_32);
    this.pos = this.buf.writeInt32BE(high, this.pos);
    this.pos = this.buf.writeUInt32BE(micros - high * TWO_32, this.pos);
    return this;
  }

  /** A date given as days since the Unix epoch. */
  date(epochDay: number): this {
    this.room(8);
    this.pos = this.buf.writeInt32BE(4, this.pos);
    this.pos = this.buf.writeInt32BE(epochDay - PG_EPOCH_DAY, this.pos);
    return this;
  }

  /** The rows with the format's trailer. */
  finish(): Buffer {
    this.room(2);
    this.pos = this.buf.writeInt16BE(-1, this.pos);
    return this.buf.subarray(0, this.pos);
  }
}

/** COPY of rows built with BinaryRows into `table`'s `columns`, in that order and of those types. */
export async function copyBinary(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  data: Buffer,
): Promise<void> {
  const stream = client.query(
    copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT binary)`),
  );
  await pipeline(Readable.from([data]), stream);
}
