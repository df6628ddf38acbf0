import fc from 'fast-check';

/**
 * fast-check generators for input that arrives as text (flags, query strings, policy files). Fully random
 * strings almost never look like a number or a duration, so these mix random text with text built from the
 * characters that number and duration grammars (and their near misses) are made of.
 */

/** Characters of numbers and their look-alikes: digits, sign, point, exponent, hex, spaces, Infinity. */
const NUMBERISH_CHARS = [
  '0',
  '1',
  '2',
  '5',
  '9',
  '-',
  '+',
  '.',
  'e',
  'E',
  'x',
  'b',
  ' ',
  '\t',
  '_',
  ',',
  'I',
];

/** Text that is often a number, often nearly one (`1e2`, `0x2`, ` 5`, `5.`, `+5`, `05`), and sometimes anything. */
export const numberishText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...NUMBERISH_CHARS), maxLength: 12 }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
  fc.double({ noNaN: false }).map(String),
  fc.constantFrom(
    '',
    '0x2',
    '1e2',
    ' 2',
    '2 ',
    '2.0',
    '+5',
    '5.',
    '.5',
    'Infinity',
    '-Infinity',
    'NaN',
    '0b1',
    '0o7',
  ),
  fc.string({ maxLength: 8 }),
);

/** Plain decimal notation with `digits` integer digits at most and `decimals` fraction digits at most. */
export const plainDecimalText = (digits: number, decimals: number): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.string({
        unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
        minLength: 1,
        maxLength: digits,
      }),
      fc.string({
        unit: fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7', '8', '9'),
        maxLength: decimals,
      }),
    )
    .map(([whole, fraction]) => (fraction ? `${whole}.${fraction}` : whole));

const UNITS = ['ms', 's', 'm', 'h', 'd', 'w'];

/** Text that is often a duration (`30s`, `1h30m`, `1.5m`), often nearly one (`1e3s`, `5 s`, `-1s`), and sometimes anything. */
export const durationishText: fc.Arbitrary<string> = fc.oneof(
  fc
    .array(fc.tuple(fc.oneof(plainDecimalText(4, 3), fc.nat().map(String)), fc.constantFrom(...UNITS)), {
      minLength: 1,
      maxLength: 4,
    })
    .map((parts) => parts.map(([n, u]) => `${n}${u}`).join('')),
  fc.string({
    unit: fc.constantFrom('0', '1', '9', '.', 'e', '-', '+', ' ', 'm', 's', 'h', 'd', 'w', 'x'),
    maxLength: 12,
  }),
  fc.bigInt({ min: 0n, max: 10n ** 40n }).map((n) => `${n}${UNITS[Number(n % 6n)]}`),
  fc.constantFrom('1e3s', '0s', '', 's', '5', '1.s', '.5s', 'Infinityd', '9'.repeat(400) + 's', '1h 30m'),
  fc.string({ maxLength: 8 }),
);

/** Values a YAML or JSON document can hold, plus a few JavaScript ones YAML can produce (NaN, Infinity). */
export const yamlishValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e308, -0),
    fc.double(),
    fc.integer(),
    durationishText,
    numberishText,
    fc.string(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;
