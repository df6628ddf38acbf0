import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { isCalendarDate } from '../../src/validation/calendar-date.js';

/** One day of Seattle weather, as vega-datasets ships it (°C, mm, m/s). */
export interface WeatherDay {
  date: string;
  precipitation: number;
  tempMax: number;
  tempMin: number;
  wind: number;
  weather: string;
}

const HEADER = 'date,precipitation,temp_max,temp_min,wind,weather';

/** The data set inside the installed npm package (found through the package, wherever npm put it). */
export function seattleWeatherPath(): string {
  // The package exports only its entry point (build/index.js); the data directory sits beside build/.
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  return join(dirname(entry), '..', 'data', 'seattle-weather.csv');
}

// Arena's own check of a date that exists (Date.parse alone would accept 2015-02-30).
export { isCalendarDate };

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(isCalendarDate, 'must be a real calendar date');
const finite = z.coerce
  .number({ message: 'must be a finite number' })
  .refine(Number.isFinite, 'must be a finite number');
const rowSchema = z.object({
  date: isoDate,
  precipitation: finite.refine((x) => x >= 0, 'must be ≥ 0'),
  temp_max: finite,
  temp_min: finite,
  wind: finite.refine((x) => x >= 0, 'must be ≥ 0'),
  weather: z.string().min(1, 'must not be empty'),
});

export class WeatherDataError extends Error {
  override name = 'WeatherDataError';
}

/** Strict parse: the header is checked, every row validated, dates sorted and unique. */
export function parseWeatherCsv(text: string, source: string): WeatherDay[] {
  // Line numbers are those of the file, blank lines included, so an error points at the right line.
  const lines = text
    .split(/\r?\n/)
    .map((content, i) => ({ content, lineNo: i + 1 }))
    .filter((l) => l.content.trim() !== '');
  const header = lines[0];
  if (header?.content.trim() !== HEADER)
    throw new WeatherDataError(
      `${source}:${header?.lineNo ?? 1}: header must be "${HEADER}", got ${JSON.stringify(header?.content ?? '')}`,
    );
  const columns = HEADER.split(',');
  const rows: Array<{ day: WeatherDay; lineNo: number }> = [];
  for (const { content, lineNo } of lines.slice(1)) {
    const cells = content.split(',');
    if (cells.length !== columns.length)
      throw new WeatherDataError(
        `${source}:${lineNo}: expected ${columns.length} columns (${HEADER}), got ${cells.length}: ${JSON.stringify(content)}`,
      );
    const parsed = rowSchema.safeParse(Object.fromEntries(columns.map((c, k) => [c, cells[k]!.trim()])));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const column = String(issue.path[0]);
      const value = cells[columns.indexOf(column)];
      throw new WeatherDataError(
        `${source}:${lineNo}: column ${column}=${JSON.stringify(value)}: ${issue.message}`,
      );
    }
    const r = parsed.data;
    rows.push({
      day: {
        date: r.date,
        precipitation: r.precipitation,
        tempMax: r.temp_max,
        tempMin: r.temp_min,
        wind: r.wind,
        weather: r.weather,
      },
      lineNo,
    });
  }
  rows.sort((a, b) => a.day.date.localeCompare(b.day.date));
  for (let i = 1; i < rows.length; i++)
    if (rows[i]!.day.date === rows[i - 1]!.day.date) {
      const [first, second] = [rows[i - 1]!.lineNo, rows[i]!.lineNo].sort((a, b) => a - b);
      throw new WeatherDataError(
        `${source}:${second}: column date=${JSON.stringify(rows[i]!.day.date)}: appears twice (also on line ${first})`,
      );
    }
  return rows.map((r) => r.day);
}

export function loadWeather(path = seattleWeatherPath()): {
  days: WeatherDay[];
  sha256: string;
  path: string;
} {
  const bytes = readFileSync(path);
  return {
    days: parseWeatherCsv(bytes.toString('utf8'), path),
    sha256: createHash('sha256').update(bytes).digest('hex'),
    path,
  };
}

/** Days from `from` to `to`, both inclusive (ISO dates compare as strings). */
export function sliceDays(days: WeatherDay[], from: string, to: string): WeatherDay[] {
  return days.filter((d) => d.date >= from && d.date <= to);
}

/** The canonical text of rows: the CSV form of exactly these days, so a training digest is reproducible. */
export function canonicalRows(days: WeatherDay[]): string {
  return (
    [
      HEADER,
      ...days.map((d) => [d.date, d.precipitation, d.tempMax, d.tempMin, d.wind, d.weather].join(',')),
    ].join('\n') + '\n'
  );
}

export function sha256OfDays(days: WeatherDay[]): string {
  return createHash('sha256').update(canonicalRows(days)).digest('hex');
}
