import type pg from 'pg';

/**
 * Which day partitions (and which models' days in `raw_data_days`) a pool's writers know exist, so that a
 * batch whose days are all known costs no statement. A day is remembered only after the transaction that
 * made it commits; retention can drop a remembered day, so a write that finds no partition forgets them all
 * and tries again (see isMissingPartition).
 */
export class DayPartitions {
  private readonly days = new Set<string>();
  private readonly modelDays = new Set<string>();

  /**
   * Before a write transaction: makes the partitions of the records' days, a few days per transaction. A
   * batch can span years (a backfill, or a hostile client within the plausibility window of `at`); made in
   * the write's own transaction, thousands of new tables would exhaust PostgreSQL's lock table and hold every
   * other writer of those days until it commits.
   */
  async prepare(pool: pg.Pool, days: Iterable<string>): Promise<void> {
    const unknown = [...new Set(days)].filter((d) => !this.days.has(d)).sort();
    for (let i = 0; i < unknown.length; i += DAYS_PER_TRANSACTION) {
      const chunk = unknown.slice(i, i + DAYS_PER_TRANSACTION);
      await pool.query('select arena_ensure_day_partitions($1::date[])', [chunk]);
      for (const d of chunk) this.days.add(d);
    }
  }

  /**
   * Inside a write transaction: creates the partitions of the days not known to exist and records which
   * models have rows on which days. Returns what to `remember` once the transaction commits.
   */
  async ensure(
    client: pg.PoolClient,
    tenantId: string,
    used: ReadonlyArray<{ model: string; day: string }>,
  ): Promise<Learnt> {
    const days = new Set<string>();
    const modelDays = new Map<string, { model: string; day: string }>();
    for (const u of used) {
      if (!this.days.has(u.day)) days.add(u.day);
      const k = `${tenantId}\u0000${u.model}\u0000${u.day}`;
      if (!this.modelDays.has(k)) modelDays.set(k, u);
    }
    if (days.size > 0) await client.query('select arena_ensure_day_partitions($1::date[])', [[...days]]);
    if (modelDays.size > 0) {
      const list = [...modelDays.values()].sort((a, b) =>
        a.day === b.day ? (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) : a.day < b.day ? -1 : 1,
      );
      await client.query(
        `insert into raw_data_days (tenant_id, model, day)
         select $1, model, day from unnest($2::text[], $3::date[]) as r(model, day)
         on conflict do nothing`,
        [tenantId, list.map((m) => m.model), list.map((m) => m.day)],
      );
    }
    return { days: [...days], modelDays: [...modelDays.keys()] };
  }

  remember(learnt: Learnt): void {
    for (const d of learnt.days) this.days.add(d);
    for (const k of learnt.modelDays) this.modelDays.add(k);
  }

  forget(): void {
    this.days.clear();
    this.modelDays.clear();
  }
}

export interface Learnt {
  days: string[];
  modelDays: string[];
}

/** Each day is two tables (predictions, feedback) and their indexes, each a lock until commit. */
const DAYS_PER_TRANSACTION = 16;

const byPool = new WeakMap<pg.Pool, DayPartitions>();

export function dayPartitionsFor(pool: pg.Pool): DayPartitions {
  let p = byPool.get(pool);
  if (!p) byPool.set(pool, (p = new DayPartitions()));
  return p;
}

/** PostgreSQL's refusal of a row whose day has no partition: retention dropped a day this process knew. */
export function isMissingPartition(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (
    e?.code === '23514' && typeof e.message === 'string' && e.message.includes('no partition of relation')
  );
}
