import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decimalOption,
  durationOption,
  idOption,
  integerOption,
  percentToBasisPoints,
  sinceOption,
} from '../../../src/cli/parse.js';
import { InvalidInputError } from '../../../src/errors.js';
import { refusal } from '../../support/refusal.js';
import { unstorableText } from '../../../src/validation/storable-text.js';
import { numberishText, plainDecimalText } from '../../support/arbitraries.js';

describe('integerOption', () => {
  const limit = (text: string) => integerOption('--limit', text, { min: 1, max: 1000 });

  it('accepts decimal digits within the bounds', () => {
    expect(limit('1')).toBe(1);
    expect(limit('50')).toBe(50);
    expect(limit('1000')).toBe(1000);
    expect(limit('007')).toBe(7);
    expect(integerOption('--offset', '-5', { min: -10, max: 10 })).toBe(-5);
  });

  it.each(['0x2', '1e2', ' 2', '2 ', '2.0', '+2', '', '0b1', 'Infinity', 'NaN', '2_000', '1,000', '-1', '٣'])(
    'refuses %j, naming the flag, the value and what is accepted',
    (text) => {
      const err = refusal(() => limit(text));
      expect(err.field).toBe('--limit');
      expect(err.value).toBe(text);
      expect(err.message).toContain(`--limit=${JSON.stringify(text)}`);
      expect(err.message).toContain('a whole number between 1 and 1000, written in decimal digits');
    },
  );

  it('refuses values outside the bounds and digits past what a number holds', () => {
    expect(refusal(() => limit('0')).message).toMatch(/between 1 and 1000/);
    expect(refusal(() => limit('1001')).message).toMatch(/between 1 and 1000/);
    const huge = '9'.repeat(400);
    expect(refusal(() => integerOption('--n', huge, { min: 0, max: Number.MAX_SAFE_INTEGER })).field).toBe(
      '--n',
    );
    expect(() => integerOption('--n', '9007199254740993', { min: 0, max: Number.MAX_SAFE_INTEGER })).toThrow(
      InvalidInputError,
    );
  });

  it('accepts exactly the strings of the grammar ^-?\\d+$ within bounds, and the value round-trips (property)', () => {
    const bounds = { min: -500, max: 1_000_000 };
    fc.assert(
      fc.property(numberishText, (text) => {
        let value: number | undefined;
        try {
          value = integerOption('--n', text, bounds);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidInputError);
          expect((err as InvalidInputError).field).toBe('--n');
        }
        const inGrammar = /^-?\d+$/.test(text) && Number(text) >= bounds.min && Number(text) <= bounds.max;
        expect(value !== undefined).toBe(inGrammar);
        if (value !== undefined) {
          expect(Number.isSafeInteger(value)).toBe(true);
          // The value is what the digits say: the canonical rendering, leading zeros aside.
          expect(String(value)).toBe(text.replace(/^(-?)0+(?=\d)/, '$1').replace(/^-0$/, '0'));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('renders and re-reads every integer in bounds (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (n) => {
        expect(limit(String(n))).toBe(n);
      }),
    );
  });
});

describe('decimalOption', () => {
  const rps = (text: string) => decimalOption('--rps', text, { min: 0, minExclusive: true, max: 100_000 });

  it('accepts plain decimal notation within the bounds', () => {
    expect(rps('200')).toBe(200);
    expect(rps('0.5')).toBe(0.5);
    expect(rps('100000')).toBe(100_000);
    expect(decimalOption('--x', '-0.25', { min: -1, max: 10 })).toBe(-0.25);
  });

  it.each(['0x2', '1e2', ' 5', '5 ', '+5', '5.', '.5', 'Infinity', 'NaN', '', '-5', '1,5'])(
    'refuses %j',
    (text) => {
      const err = refusal(() => rps(text));
      expect(err.field).toBe('--rps');
      expect(err.message).toContain('must be a number above 0 and at most 100000, in plain decimal notation');
    },
  );

  it('refuses the excluded minimum and values past the maximum', () => {
    expect(refusal(() => rps('0')).message).toMatch(/above 0/);
    expect(refusal(() => rps('0.0')).message).toMatch(/above 0/);
    expect(refusal(() => rps('100000.5')).message).toMatch(/at most 100000/);
  });

  it('accepts exactly plain decimal notation within bounds, and the value round-trips (property)', () => {
    const bounds = { min: 0, max: 1_000 };
    fc.assert(
      fc.property(fc.oneof(numberishText, plainDecimalText(5, 4)), (text) => {
        let value: number | undefined;
        try {
          value = decimalOption('--x', text, bounds);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidInputError);
        }
        const inGrammar = /^\d+(\.\d+)?$/.test(text) && Number(text) <= bounds.max;
        expect(value !== undefined).toBe(inGrammar);
        if (value !== undefined) expect(value).toBe(Number(text));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('percentToBasisPoints', () => {
  const weight = (text: string) => percentToBasisPoints('--weight', text);

  it('accepts percent with up to two decimals', () => {
    expect(weight('5')).toBe(500);
    expect(weight('12.5')).toBe(1250);
    expect(weight('0.25')).toBe(25);
    expect(weight('0')).toBe(0);
    expect(weight('100')).toBe(10_000);
    expect(weight('100.00')).toBe(10_000);
    expect(weight('33.33')).toBe(3333);
    expect(weight('0.07')).toBe(7); // 0.07 * 100 is 7.000000000000001 in floating point
  });

  it.each(['0x2', '1e2', '+5', ' 5', '5.', 'Infinity', '12.345', '100.01', '150', '-1', ''])(
    'refuses %j',
    (text) => {
      const err = refusal(() => weight(text));
      expect(err.field).toBe('--weight');
      expect(err.message).toContain(`--weight=${JSON.stringify(text)}`);
      expect(err.message).toContain('at most 2 decimals');
    },
  );

  it('round-trips every basis point 0..10000 through its percent text (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (bp) => {
        const text = `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, '0')}`;
        expect(weight(text)).toBe(bp);
        expect(weight(String(bp / 100))).toBe(bp);
      }),
    );
  });

  it('accepts only ^\\d+(\\.\\d{1,2})?$ up to 100 (property)', () => {
    fc.assert(
      fc.property(fc.oneof(numberishText, plainDecimalText(3, 3)), (text) => {
        let bp: number | undefined;
        try {
          bp = weight(text);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidInputError);
        }
        const inGrammar = /^\d+(\.\d{1,2})?$/.test(text) && Number(text) <= 100;
        expect(bp !== undefined).toBe(inGrammar);
        if (bp !== undefined) {
          expect(Number.isInteger(bp)).toBe(true);
          expect(bp / 100).toBeCloseTo(Number(text), 10);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('idOption', () => {
  it('accepts bigint ids as canonical decimal strings, past 2^53 too', () => {
    expect(idOption('id', '42')).toBe('42');
    expect(idOption('id', '0042')).toBe('42');
    expect(idOption('id', '9223372036854775807')).toBe('9223372036854775807');
    expect(idOption('id', '9007199254740993')).toBe('9007199254740993');
  });

  it.each([
    '0',
    '9223372036854775808',
    '99999999999999999999',
    '-1',
    '0x2',
    '1e2',
    '1.0',
    ' 1',
    '1\u0000',
    '',
  ])('refuses %j', (text) => {
    const err = refusal(() => idOption('id', text));
    expect(err.field).toBe('id');
    expect(err.message).toContain('decimal digits between 1 and 9223372036854775807');
  });

  it('round-trips every id in range (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), (n) => {
        expect(idOption('id', n.toString())).toBe(n.toString());
      }),
    );
  });
});

describe('durationOption and sinceOption', () => {
  it('bound durations, naming the bound', () => {
    expect(durationOption('--duration', '30s', { maxMs: 86_400_000 })).toBe(30_000);
    expect(refusal(() => durationOption('--duration', '2d', { maxMs: 86_400_000 })).message).toMatch(
      /--duration="2d": must be at most 1d/,
    );
    expect(refusal(() => durationOption('--duration', '0s', { minMs: 1, maxMs: 1000 })).message).toMatch(
      /must be at least 1ms/,
    );
    expect(refusal(() => durationOption('--duration', '1e3s', { maxMs: 1000 })).message).toMatch(
      /must be a duration like/,
    );
  });

  it('refuses a --since that reaches back past any representable date', () => {
    const now = new Date('2026-11-22T10:00:00Z');
    expect(sinceOption('--since', '24h', now)!.toISOString()).toBe('2026-11-21T10:00:00.000Z');
    expect(() => sinceOption('--since', '999999999d', now)).toThrow(InvalidInputError);
  });
});

describe('unstorableText', () => {
  it('names NUL bytes and lone surrogates, and passes any other text', () => {
    expect(unstorableText('a\u0000b')).toMatch(/NUL/);
    expect(unstorableText('\uD800')).toMatch(/surrogate/);
    expect(unstorableText('x\uDC00')).toMatch(/surrogate/);
    expect(unstorableText('😀 ok')).toBeUndefined();
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(unstorableText(s)).toEqual(s.includes('\u0000') ? expect.stringMatching(/NUL/) : undefined);
      }),
    );
    // UTF-16 code units in any order: refused exactly when the text is not well-formed (or has a NUL).
    const unit = fc.oneof(
      fc.integer({ min: 0xd800, max: 0xdfff }),
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0, max: 0xffff }),
    );
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 8 }), (codes) => {
        const s = String.fromCharCode(...codes);
        const wellFormed = (s as string & { isWellFormed(): boolean }).isWellFormed();
        expect(unstorableText(s) === undefined).toBe(wellFormed && !s.includes('\u0000'));
      }),
      { numRuns: 2000 },
    );
  });
});
