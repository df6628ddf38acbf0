import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { isLegalTransition } from '../../../src/registry/status.js';
import { parseVersion } from '../../../src/registry/version.js';

describe('parseVersion', () => {
  it.each([
    ['1.2.3', '1.2.3', null, null],
    ['v1.2.3', '1.2.3', null, null],
    ['2.1.0+20250818142000', '2.1.0+20250818142000', null, '20250818142000'],
    ['v2.1.0_20250818_142000', '2.1.0+20250818142000', null, '20250818142000'],
    ['3.0.0-rc.1', '3.0.0-rc.1', 'rc.1', null],
    ['3.0.0-beta.2+exp.sha.5114f85', '3.0.0-beta.2+exp.sha.5114f85', 'beta.2', 'exp.sha.5114f85'],
  ])('%s → %s', (input, version, prerelease, build) => {
    expect(parseVersion(input)).toMatchObject({ version, prerelease, build });
  });

  it.each(['1.2', '01.2.3', '1.2.3.4', 'latest', '', '1.2.3-', 'v2.1.0_2025_14', '1.2.3 beta'])(
    'rejects %j naming the field and the value',
    (input) => {
      expect(() => parseVersion(input, 'challenger')).toThrow(InvalidInputError);
      expect(() => parseVersion(input, 'challenger')).toThrow(`challenger=${JSON.stringify(input)}`);
    },
  );
});

describe('status transitions', () => {
  it('allows the lifecycle and refuses the rest', () => {
    expect(isLegalTransition('candidate', 'challenger')).toBe(true);
    expect(isLegalTransition('challenger', 'champion')).toBe(true);
    expect(isLegalTransition('champion', 'archived')).toBe(true);
    expect(isLegalTransition('archived', 'champion')).toBe(true);
    expect(isLegalTransition('champion', 'candidate')).toBe(false);
    expect(isLegalTransition('rejected', 'champion')).toBe(false);
  });
});
