/**
 * Serves the example classifier from its artifact, on the flights of the data set that leave ORIGIN at a
 * scheduled time (their recent-delay feature read from the flights before them):
 *   npx tsx examples/flights-model/predict.ts --artifact model.json --origin ORD --at 2001-06-01T17:05 \
 *     [--data FILE.parquet] [--digest SHA256]
 * One JSON line per flight: {"at","origin","destination","distance","probability","delayed"}.
 */
import { Command } from 'commander';
import { z } from 'zod';
import { digestFlag, validatedFlags } from '../cli-flags.js';
import { isCalendarDate } from '../../src/validation/calendar-date.js';
import { loadFlightsArtifact, scoreFlights } from './scoring.js';

const optionsSchema = z.object({
  artifact: z.string().min(1, '--artifact is required'),
  origin: z.string().regex(/^[A-Z0-9]{3}$/, '--origin must be an airport code such as ORD'),
  at: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, '--at must be a local time YYYY-MM-DDTHH:MM')
    .refine(
      (s) => isCalendarDate(s.slice(0, 10)) && Number(s.slice(11, 13)) < 24 && Number(s.slice(14)) < 60,
      '--at must be a real local time',
    ),
  data: z.string().optional(),
  digest: digestFlag.optional(),
});

async function main(): Promise<void> {
  const program = new Command('predict')
    .requiredOption('--artifact <file>')
    .requiredOption('--origin <code>')
    .requiredOption('--at <time>')
    .option('--data <parquet>')
    .option('--digest <sha256>')
    .parse(process.argv);
  const o = validatedFlags(program, optionsSchema);
  const artifact = await loadFlightsArtifact(o.artifact, o.digest);
  const at = Date.parse(`${o.at}:00Z`);
  let found = 0;
  for await (const flights of scoreFlights([artifact], {
    from: at,
    to: at + 60_000,
    ...(o.data ? { path: o.data } : {}),
  }))
    for (const f of flights)
      if (f.origin === o.origin) {
        found++;
        process.stdout.write(
          `${JSON.stringify({ at: o.at, origin: f.origin, destination: f.destination, distance: f.distance, probability: f.p[0], delayed: f.delayed })}\n`,
        );
      }
  if (found === 0) throw new Error(`no flight leaves ${o.origin} at ${o.at} in the data`);
}

main().catch((err: unknown) => {
  process.stderr.write(`predict: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
