import knexFactory, { type Knex } from 'knex';
import pg from 'pg';

export type { Knex };

// Postgres returns bigint (int8) and numeric as strings to protect precision; Arena's counts and sums fit
// in a double, and every consumer wants numbers.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

export function createKnex(databaseUrl: string, pool: { min?: number; max?: number } = {}): Knex {
  return knexFactory({
    client: 'pg',
    connection: databaseUrl,
    pool: { min: pool.min ?? 0, max: pool.max ?? 10 },
  });
}
