/**
 * Which day partitions of raw predictions and feedback may go. Pure: the activity reads the inputs and
 * carries out the plan (src/retention/day-store.ts).
 *
 * A day holds the requests anchored on it, of every model (src/ingest/request-anchors.ts). It is dropped only
 * when every model with rows on it has let it go: the day is older than that model's feedback window plus
 * its raw days, and no active rollout of that model reads it. So a model's retention is a floor, and the
 * disk is bounded by the longest retention among the models sharing a day.
 */

const DAY_MS = 86_400_000;

export interface ModelRetention {
  tenantId: string;
  model: string;
  /** Days kept, counting back from today: the feedback window (rounded up to whole days) plus the raw days. */
  keepDays: number;
}

export interface ActiveRollout {
  tenantId: string;
  model: string;
  id: string;
  /** When the rollout started: its shadow window reads from here on. */
  since: Date;
}

export interface DayDecision {
  day: string;
  drop: boolean;
  /** Why it stays, or why it goes. */
  reason: string;
}

export const keepDaysOf = (p: { feedbackWindow: number; rawDays: number }): number =>
  Math.ceil(p.feedbackWindow / DAY_MS) + p.rawDays;

const dayOf = (t: Date): string => t.toISOString().slice(0, 10);
const addDays = (day: string, n: number): string =>
  dayOf(new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS));

export function planRetention(input: {
  today: Date;
  /** The day partitions that exist (`YYYY-MM-DD`). */
  days: readonly string[];
  /** Which models have rows on each day. */
  modelsOn: ReadonlyMap<string, ReadonlyArray<{ tenantId: string; model: string }>>;
  /** Days a model keeps, or why its days cannot be judged (an invalid policy): then they stay. */
  retentionOf: (tenantId: string, model: string) => number | { unknown: string };
  activeRollouts: readonly ActiveRollout[];
}): DayDecision[] {
  const today = dayOf(input.today);
  const yesterday = addDays(today, -1);
  return [...input.days].sort().map((day): DayDecision => {
    if (day >= yesterday) return { day, drop: false, reason: 'today or yesterday: still being written' };
    const models = input.modelsOn.get(day) ?? [];
    for (const m of models) {
      const keep = input.retentionOf(m.tenantId, m.model);
      if (typeof keep !== 'number') return { day, drop: false, reason: `${who(m)}: ${keep.unknown}` };
      const until = addDays(day, keep);
      if (until > today) return { day, drop: false, reason: `${who(m)} keeps ${keep} days: until ${until}` };
    }
    for (const m of models) {
      const reader = input.activeRollouts.find(
        // A day before the start as well: the first window of a rollout begins at its start, in any time zone.
        (r) => r.tenantId === m.tenantId && r.model === m.model && day >= addDays(dayOf(r.since), -1),
      );
      if (reader)
        return {
          day,
          drop: false,
          reason: `rollout ${reader.id} of ${who(m)} is active since ${dayOf(reader.since)} and reads it`,
        };
    }
    return {
      day,
      drop: true,
      reason:
        models.length === 0
          ? 'no model has rows on it'
          : `past the retention of ${models.map(who).join(', ')}`,
    };
  });
}

const who = (m: { tenantId: string; model: string }): string =>
  m.tenantId === 'default' ? m.model : `${m.tenantId}/${m.model}`;
