import { resolve } from 'node:path';
import { parquetWriteFile } from 'hyparquet-writer';
import type { Knex } from 'knex';
import type { FlightsModelArtifact } from '../../examples/flights-model/model.js';
import { createLocalArtifactStore } from '../../src/artifacts/local-store.js';
import { registerVersion, setChampion } from '../../src/registry/registry.js';
import { localDay, readFlights, type FlightBatch } from '../../examples/flights-model/data.js';

/** A Parquet file of flights in the real file's columns (timestamps as written by hyparquet-writer). */
export function writeFlights(file: string, b: FlightBatch): void {
  parquetWriteFile({
    filename: file,
    columnData: [
      { name: 'date', data: Array.from(b.time, (t) => new Date(t)), type: 'TIMESTAMP' },
      { name: 'delay', data: Array.from(b.delay), type: 'INT32' },
      { name: 'distance', data: Array.from(b.distance), type: 'INT32' },
      { name: 'origin', data: b.origin, type: 'STRING' },
      { name: 'destination', data: b.destination, type: 'STRING' },
    ],
  });
}

/** The real file's flights scheduled before `to` (a local date), in one batch. */
export async function firstFlights(to: string): Promise<FlightBatch> {
  const parts: FlightBatch[] = [];
  for await (const b of readFlights({ to: localDay(to) })) parts.push(b);
  return {
    time: Float64Array.from(parts.flatMap((p) => Array.from(p.time))),
    delay: Float64Array.from(parts.flatMap((p) => Array.from(p.delay))),
    distance: Float64Array.from(parts.flatMap((p) => Array.from(p.distance))),
    origin: parts.flatMap((p) => p.origin),
    destination: parts.flatMap((p) => p.destination),
  };
}

/**
 * Registers `artifact` as version 1.0.0 of `model`, its bytes in the store the test worker reads
 * (<ARENA_HOME>/artifacts, ARENA_HOME unset in tests), and makes it the champion.
 */
export async function registerFlightsChampion(
  knex: Knex,
  model: string,
  artifact: FlightsModelArtifact,
): Promise<void> {
  const { uri, digest } = await createLocalArtifactStore(resolve('.arena/artifacts')).put(
    JSON.stringify(artifact),
  );
  await registerVersion(knex, {
    model,
    version: '1.0.0',
    actor: 'setup',
    artifactUri: uri,
    artifactDigest: digest,
  });
  await setChampion(knex, { model, version: '1.0.0', actor: 'setup' });
}
