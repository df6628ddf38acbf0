/**
 * An empty table shaped as `predictions` (partitioned by day, with its keys and indexes) and partitions for
 * `days`: where the benchmarks' raw COPY baselines write, so the recorder is compared against COPY into the
 * same kind of table, partition routing included.
 */
export async function createPredictionsCopy(
  run: (sql: string) => Promise<unknown>,
  name: string,
  days: Iterable<string>,
): Promise<void> {
  await run(`create table ${name} (like predictions including all) partition by range (day)`);
  for (const day of new Set(days)) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`not a day: ${day}`);
    await run(
      `create table ${name}_${day.replaceAll('-', '')} partition of ${name} for values from ('${day}') to ('${day}'::date + 1)`,
    );
  }
}
