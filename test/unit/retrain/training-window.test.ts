import { describe, expect, it } from 'vitest';
import { parseTrainingConfig } from '../../../src/retrain/training-config.js';
import { resolveTrainingWindow, trainingWindowSchema } from '../../../src/retrain/training-window.js';

const base = { process: { command: ['train'] }, validate: { command: ['validate'] } };

describe('training window', () => {
  it('keeps fixed dates as they are', () => {
    const w = trainingWindowSchema.parse({
      trainFrom: '2012-01-01',
      trainTo: '2014-12-31',
      holdoutFrom: '2015-01-01',
      holdoutTo: '2015-12-31',
    });
    expect(resolveTrainingWindow(w, new Date('2026-11-22T10:00:00Z'))).toEqual({
      trainFrom: '2012-01-01',
      trainTo: '2014-12-31',
      holdoutFrom: '2015-01-01',
      holdoutTo: '2015-12-31',
    });
  });

  it('places a relative window before the job was created: holdout last, training just before it', () => {
    const w = trainingWindowSchema.parse({ relative: { train: '3d', holdout: '1w' } });
    expect(resolveTrainingWindow(w, new Date('2026-03-01T23:59:00Z'))).toEqual({
      trainFrom: '2026-02-19',
      trainTo: '2026-02-21',
      holdoutFrom: '2026-02-22',
      holdoutTo: '2026-02-28',
    });
    const fixedEnd = trainingWindowSchema.parse({
      relative: { train: '730d', holdout: '365d', end: '2015-12-31' },
    });
    expect(resolveTrainingWindow(fixedEnd, new Date())).toEqual({
      trainFrom: '2013-01-01',
      trainTo: '2014-12-31',
      holdoutFrom: '2015-01-01',
      holdoutTo: '2015-12-31',
    });
  });

  it('names the field and the value that are wrong', () => {
    expect(() =>
      parseTrainingConfig({ ...base, window: { relative: { train: '36h', holdout: '7d' } } }),
    ).toThrow(/training\.window\.relative\.train="36h".*whole days/);
    expect(() =>
      parseTrainingConfig({ ...base, window: { trainFrom: '2012-01-01', trainTo: '2014-12-31' } }),
    ).toThrow(/training\.window=.*needs trainFrom, trainTo, holdoutFrom and holdoutTo/);
    expect(() =>
      parseTrainingConfig({
        ...base,
        window: {
          trainFrom: '2012-13-01',
          trainTo: '2014-12-31',
          holdoutFrom: '2015-01-01',
          holdoutTo: '2015-12-31',
        },
      }),
    ).toThrow(/training\.window\.trainFrom="2012-13-01".*real calendar date/);
    expect(() =>
      parseTrainingConfig({
        ...base,
        window: { trainFrom: '2012-01-01', relative: { train: '7d', holdout: '7d' } },
      }),
    ).toThrow(/training\.window\.trainFrom="2012-01-01".*not both/);
    expect(() => parseTrainingConfig({ ...base, process: { command: ['train'], timeout: '13h' } })).toThrow(
      /training\.process\.timeout="13h".*at most 12h/,
    );
  });

  it('takes a window per trigger, checked like the default one', () => {
    const drift = { relative: { train: '90d', holdout: '7d' } };
    expect(parseTrainingConfig({ ...base, windows: { drift } }).windows).toEqual({
      drift: { relative: { train: 90, holdout: 7 } },
    });
    expect(() =>
      parseTrainingConfig({ ...base, windows: { drift: { relative: { train: '2h', holdout: '7d' } } } }),
    ).toThrow(/training\.windows\.drift\.relative\.train="2h".*whole days/);
    expect(() => parseTrainingConfig({ ...base, windows: { weekly: drift } })).toThrow(/training\.windows/);
  });
});
