import { describe, expect, it } from 'vitest';
import { fillCommand, parseTrainingConfig } from '../../../src/retrain/training-config.js';

const validate = { command: ['node', 'evaluate.js', '{candidate}', '{champion}'] };

describe('training configuration', () => {
  it('applies the documented defaults', () => {
    const c = parseTrainingConfig({ process: { command: ['node', 'train.js', '--out', '{out}'] }, validate });
    expect(c).toMatchObject({
      backend: 'process',
      process: { heartbeatTimeout: 30_000, timeout: 1_800_000, env: {} },
      validate: { minImprovement: 0.05, accuracyFloor: 0.85 },
      rollout: { autoApprove: true },
    });
  });

  it('names the field and the value that are wrong', () => {
    expect(() => parseTrainingConfig({ validate })).toThrow(
      /training\.process.*backend process needs its "process" section/,
    );
    expect(() =>
      parseTrainingConfig({ process: { command: ['x'], heartbeatTimeout: 'soon' }, validate }, 'cfg'),
    ).toThrow(/cfg\.process\.heartbeatTimeout="soon".*duration/);
    expect(() => parseTrainingConfig({ process: { command: [] }, validate })).toThrow(/needs the program/);
    expect(() =>
      parseTrainingConfig({ process: { command: ['x'] }, validate: { ...validate, minImprovement: 2 } }),
    ).toThrow(/validate\.minImprovement=2/);
  });

  it('fills placeholders without a shell and refuses unknown ones', () => {
    expect(
      fillCommand(['train', '--out', '{out}', '--v={version}'], { out: '/tmp/a b', version: '1.2.0' }),
    ).toEqual(['train', '--out', '/tmp/a b', '--v=1.2.0']);
    expect(() => fillCommand(['{oops}'], {})).toThrow(/unknown placeholder \{oops\}/);
  });
});
