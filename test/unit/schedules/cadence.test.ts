import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { parseMonitoringPolicy } from '../../../src/monitoring/policy.js';
import { seedsPreset, toScheduleSpec } from '../../../src/schedules/cadence.js';

const refusal = (value: unknown): InvalidInputError => {
  try {
    parseMonitoringPolicy(value);
  } catch (err) {
    return err as InvalidInputError;
  }
  throw new Error('accepted');
};

describe('schedule cadences: intervals or cron in a time zone', () => {
  it('takes intervals and cron expressions, with the defaults where left out', () => {
    const p = parseMonitoringPolicy({
      schedules: { backtest: { cron: '0 6 * * *', timezone: 'Europe/Berlin' }, retrain: '3d' },
    });
    expect(p.schedules).toEqual({
      driftCheck: { every: 3_600_000 },
      monitor: { every: 900_000 },
      backtest: { cron: '0 6 * * *', timezone: 'Europe/Berlin' },
      backtestFull: { every: 7 * 86_400_000 },
      retrain: { every: 3 * 86_400_000 },
      report: { every: 7 * 86_400_000 },
    });
    expect(parseMonitoringPolicy({ schedules: { report: { cron: '30 3 * * 1' } } }).schedules.report).toEqual(
      {
        cron: '30 3 * * 1',
        timezone: 'UTC',
      },
    );
    expect(toScheduleSpec({ cron: '0 6 * * *', timezone: 'UTC' })).toEqual({
      cronExpressions: ['0 6 * * *'],
      timezone: 'UTC',
    });
    expect(toScheduleSpec({ every: 1000 })).toEqual({ intervals: [{ every: 1000 }] });
  });

  it('refuses a bad expression or time zone naming the field and the value', () => {
    const minute = refusal({ schedules: { backtest: { cron: '61 6 * * *' } } });
    expect([minute.field, minute.value]).toEqual(['monitoring.schedules.backtest.cron', '61 6 * * *']);
    expect(minute.message).toMatch(/minute/);
    const fields = refusal({ schedules: { retrain: { cron: '0 2 * *' } } });
    expect(fields.message).toMatch(/must have 5 fields .* got 4/);
    const zone = refusal({ schedules: { report: { cron: '0 3 * * *', timezone: 'Mars/Olympus' } } });
    expect([zone.field, zone.value]).toEqual(['monitoring.schedules.report.timezone', 'Mars/Olympus']);
    const interval = refusal({ schedules: { driftCheck: 'hourly' } });
    expect([interval.field, interval.value]).toEqual(['monitoring.schedules.driftCheck', 'hourly']);
    expect(refusal({ schedules: { report: { cron: '0 3 * * *', tz: 'UTC' } } }).field).toBe(
      'monitoring.schedules.report',
    );
  });

  it("the seeds preset is the arena seed's times", () => {
    expect(seedsPreset('UTC')).toEqual({
      driftCheck: { every: 3_600_000 },
      monitor: { every: 900_000 },
      backtest: { cron: '0 6 * * *', timezone: 'UTC' },
      backtestFull: { cron: '0 4 * * 0', timezone: 'UTC' },
      retrain: { cron: '0 2 * * 0', timezone: 'UTC' },
      report: { cron: '0 3 * * *', timezone: 'UTC' },
    });
  });
});
