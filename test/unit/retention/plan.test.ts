import { describe, expect, it } from 'vitest';
import { keepDaysOf, planRetention } from '../../../src/retention/plan.js';

const DAY = 86_400_000;
const today = new Date('2026-12-04T10:00:00Z');
const m = (model: string, tenantId = 'default') => ({ tenantId, model });

describe('planRetention', () => {
  it('keeps a day while any model on it keeps it, and drops it once every one has let it go', () => {
    const plan = planRetention({
      today,
      days: ['2026-11-20', '2026-11-01', '2026-11-02', '2026-12-03', '2026-12-04', '2026-10-01'],
      modelsOn: new Map([
        ['2026-11-01', [m('short'), m('long')]],
        ['2026-11-02', [m('short')]],
        ['2026-11-20', [m('short')]],
        ['2026-10-01', [m('short'), m('long')]],
      ]),
      retentionOf: (_t, model) => (model === 'short' ? 8 : 40),
      activeRollouts: [],
    });
    expect(plan.map((d) => [d.day, d.drop])).toEqual([
      ['2026-10-01', true],
      ['2026-11-01', false],
      ['2026-11-02', true],
      ['2026-11-20', true],
      ['2026-12-03', false],
      ['2026-12-04', false],
    ]);
    expect(plan[1]!.reason).toBe('long keeps 40 days: until 2026-12-11');
    expect(plan[0]!.reason).toBe('past the retention of short, long');
    expect(plan[4]!.reason).toMatch(/still being written/);
  });

  it('drops a day exactly when its retention has run out', () => {
    const decide = (day: string) =>
      planRetention({
        today,
        days: [day],
        modelsOn: new Map([[day, [m('a')]]]),
        retentionOf: () => 10,
        activeRollouts: [],
      })[0]!.drop;
    expect(decide('2026-11-24')).toBe(true); // 11-24 + 10 days = 12-04: today, so it goes
    expect(decide('2026-11-25')).toBe(false);
  });

  it('never drops a day an active rollout of a model on it reads, from the day before its start', () => {
    const plan = planRetention({
      today,
      days: ['2026-10-09', '2026-10-10', '2026-10-11'],
      modelsOn: new Map([
        ['2026-10-09', [m('a')]],
        ['2026-10-10', [m('a'), m('b', 'acme')]],
        ['2026-10-11', [m('b', 'acme')]],
      ]),
      retentionOf: () => 8,
      activeRollouts: [
        { tenantId: 'default', model: 'a', id: 'r1', since: new Date('2026-10-11T08:00:00Z') },
      ],
    });
    expect(plan.map((d) => d.drop)).toEqual([true, false, true]);
    expect(plan[1]!.reason).toBe('rollout r1 of a is active since 2026-10-11 and reads it');
    // Another tenant's model of the same name is not held by it.
    expect(plan[2]!.reason).toBe('past the retention of acme/b');
  });

  it('keeps the days of a model whose policy cannot be read, and drops days with no model on them', () => {
    const plan = planRetention({
      today,
      days: ['2026-01-01', '2026-01-02'],
      modelsOn: new Map([['2026-01-01', [m('broken')]]]),
      retentionOf: () => ({ unknown: 'its monitoring policy is invalid' }),
      activeRollouts: [],
    });
    expect(plan.map((d) => d.drop)).toEqual([false, true]);
    expect(plan[1]!.reason).toBe('no model has rows on it');
  });

  it('counts the feedback window in whole days, rounded up, before the raw days', () => {
    expect(keepDaysOf({ feedbackWindow: 7 * DAY, rawDays: 30 })).toBe(37);
    expect(keepDaysOf({ feedbackWindow: 36 * 3_600_000, rawDays: 1 })).toBe(3);
  });
});
