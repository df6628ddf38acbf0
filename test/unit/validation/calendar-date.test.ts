import { describe, expect, it } from 'vitest';
import { calendarDate, isCalendarDate } from '../../../src/validation/calendar-date.js';

describe('calendar dates', () => {
  it('takes dates that exist and refuses the ones Date.parse would roll over', () => {
    for (const d of ['2016-02-29', '2015-12-31', '1999-01-01']) expect(isCalendarDate(d)).toBe(true);
    // Date.parse reads 2015-02-30 as 2 March; 2015-13-01 and 2015-00-10 are not dates at all.
    for (const d of ['2015-02-29', '2015-02-30', '2015-04-31', '2015-13-01', '2015-00-10', '2015-1-01', ''])
      expect(isCalendarDate(d)).toBe(false);
  });

  it('says which rule a value broke', () => {
    expect(calendarDate.safeParse('2015-1-01').error?.issues[0]?.message).toBe('must be a date YYYY-MM-DD');
    expect(calendarDate.safeParse('2015-02-30').error?.issues[0]?.message).toBe(
      'must be a real calendar date',
    );
  });
});
