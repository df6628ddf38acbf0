import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { isCalendarDate } from '../../src/validation/calendar-date.js';

/**
 * vega-datasets' `flights-3m.parquet`: 3,000,000 US domestic flights of January to June 2001, sorted by
 * scheduled departure, with the departure delay in minutes, the distance in miles and the origin and
 * destination airports. Times are local to the origin and carry no zone; they are kept as given, as epoch
 * milliseconds of a UTC clock reading the same digits, so "hour" and "day of week" are the local ones.
 */
export function flightsPath(): string {
  // The package exports only its entry point (build/index.js); the data directory sits beside build/.
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  return join(dirname(entry), '..', 'data', 'flights-3m.parquet');
}

/** A run of flights in columns (one row group of the file, or a slice of it), in departure order. */
export interface FlightBatch {
  /** Scheduled departure, local clock as epoch ms (see above). */
  time: Float64Array;
  /** Departure delay, minutes (negative: early). */
  delay: Float64Array;
  distance: Float64Array;
  origin: string[];
  destination: string[];
}

export class FlightDataError extends Error {
  override name = 'FlightDataError';
}

/** A flight is delayed when it leaves more than this many minutes late (the BTS's on-time definition). */
export const DELAYED_AFTER_MINUTES = 15;

const AIRPORT = /^[A-Z0-9]{3}$/;

/**
 * Reads the flights one row group at a time (about 273,000 rows), in columns, keeping those with
 * scheduled departure in [from, to): the 3M rows are never held as objects, nor all at once. Every row
 * read is checked; a bad one stops the read with an error naming the row, the column and the value.
 */
export async function* readFlights(
  opts: { path?: string; from?: number; to?: number } = {},
): AsyncGenerator<FlightBatch> {
  const path = opts.path ?? flightsPath();
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const names = metadata.schema.slice(1).map((s) => s.name);
  for (const column of ['date', 'delay', 'distance', 'origin', 'destination'])
    if (!names.includes(column))
      throw new FlightDataError(`${path}: no column ${column} (has ${names.join(', ')})`);
  let rowStart = 0;
  const dateColumn = names.indexOf('date');
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows);
    const range = { rowStart, rowEnd: rowStart + rows };
    rowStart += rows;
    // The file keeps each row group's first and last departure: a group wholly before the window need not
    // be decoded (reading May and June no longer decodes the four months before them), one wholly after it
    // ends the read.
    const span = groupSpan(group.columns[dateColumn]?.meta_data?.statistics);
    if (span && opts.from !== undefined && span.max < opts.from) continue;
    if (span && opts.to !== undefined && span.min >= opts.to) return;
    const columns = new Map<string, ArrayLike<unknown>>();
    await parquetRead({
      file,
      metadata,
      compressors,
      ...range,
      columns: ['date', 'delay', 'distance', 'origin', 'destination'],
      parsers: { timestampFromMicroseconds: (us: bigint) => Number(us / 1000n) },
      onChunk: ({ columnName, columnData, rowStart: start, rowEnd: end }) => {
        // A chunk may cover more than the range asked for; row groups are read whole here, so it is one.
        if (start !== range.rowStart || end !== range.rowEnd)
          throw new FlightDataError(`${path}: column ${columnName} arrived in parts (${start}–${end})`);
        columns.set(columnName, columnData as ArrayLike<unknown>);
      },
    });
    const batch = toBatch(columns, rows, range.rowStart, path, opts.from, opts.to);
    if (batch.time.length) yield batch;
    // Sorted by departure: nothing later can be in the window.
    if (opts.to !== undefined && batch.time.length === 0 && firstTime(columns) >= opts.to) return;
  }
}

/** A row group's departures as epoch ms from its statistics, when the file has them as times. */
function groupSpan(
  stats: { min_value?: unknown; max_value?: unknown } | undefined,
): { min: number; max: number } | undefined {
  const ms = (v: unknown): number => (v instanceof Date ? v.getTime() : Number.NaN);
  const min = ms(stats?.min_value);
  const max = ms(stats?.max_value);
  return Number.isFinite(min) && Number.isFinite(max) ? { min, max } : undefined;
}

function firstTime(columns: Map<string, ArrayLike<unknown>>): number {
  return Number(columns.get('date')?.[0] ?? Infinity);
}

function toBatch(
  columns: Map<string, ArrayLike<unknown>>,
  rows: number,
  offset: number,
  path: string,
  from = -Infinity,
  to = Infinity,
): FlightBatch {
  const date = columns.get('date')!;
  const delay = columns.get('delay')!;
  const distance = columns.get('distance')!;
  const origin = columns.get('origin')!;
  const destination = columns.get('destination')!;
  const bad = (i: number, column: string, value: unknown, why: string): never => {
    throw new FlightDataError(
      `${path}: row ${offset + i}, ${column} = ${JSON.stringify(String(value))}: ${why}`,
    );
  };
  const keep: number[] = [];
  for (let i = 0; i < rows; i++) {
    const t = Number(date[i]);
    if (!Number.isFinite(t)) bad(i, 'date', date[i], 'not a timestamp');
    if (t < from || t >= to) continue;
    const d = Number(delay[i]);
    if (!Number.isFinite(d) || Math.abs(d) > 10_000) bad(i, 'delay', delay[i], 'not a delay in minutes');
    const km = Number(distance[i]);
    if (!Number.isFinite(km) || km <= 0 || km > 10_000) bad(i, 'distance', distance[i], 'not a distance');
    if (typeof origin[i] !== 'string' || !AIRPORT.test(origin[i] as string))
      bad(i, 'origin', origin[i], 'not an airport code');
    if (typeof destination[i] !== 'string' || !AIRPORT.test(destination[i] as string))
      bad(i, 'destination', destination[i], 'not an airport code');
    keep.push(i);
  }
  return {
    time: Float64Array.from(keep, (i) => Number(date[i])),
    delay: Float64Array.from(keep, (i) => Number(delay[i])),
    distance: Float64Array.from(keep, (i) => Number(distance[i])),
    origin: keep.map((i) => origin[i] as string),
    destination: keep.map((i) => destination[i] as string),
  };
}

/** Epoch ms of a local date `YYYY-MM-DD` at midnight, as the file's clock reads it. */
export function localDay(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** A command's date flag as localDay, refused with the flag and the value unless it is a real date. */
export function dayFlag(flag: string, value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !isCalendarDate(value))
    throw new Error(`${flag} must be a real calendar date YYYY-MM-DD (got ${JSON.stringify(value)})`);
  return localDay(value);
}
