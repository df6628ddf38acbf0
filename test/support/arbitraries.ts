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

/** Sometimes the key is missing, now and then its value is anything at all. */
const field = <T>(good: fc.Arbitrary<T>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 25, arbitrary: good }, { weight: 1, arbitrary: yamlishValue });

/** Durations of the sizes policies use (mostly within the policy bounds, sometimes just outside them). */
export const plausibleDurationText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 300 }), fc.constantFrom('s', 'm', 'h'))
      .map(([n, unit]) => `${n}${unit}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '0s',
      '50ms',
      '100ms',
      '999ms',
      '1s',
      '1d',
      '25h',
      '365d',
      '366d',
      '53w',
      '1h30m',
    ),
  },
);

/** Mostly plausible durations, sometimes anything duration-like. */
const someDuration = fc.oneof(
  { weight: 12, arbitrary: plausibleDurationText },
  { weight: 1, arbitrary: durationishText },
);
const stageDuration = fc.oneof(
  { weight: 5, arbitrary: someDuration },
  { weight: 1, arbitrary: fc.integer({ min: -10, max: 4e10 }) },
);

/**
 * Objects shaped like a rollout policy (the real field names, plausible and implausible values, stray keys),
 * so that generated input reaches the checks deep inside the schema instead of failing at the top.
 */
export const policyishInput: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(policyShaped(), fc.integer({ min: 0, max: 9 }), yamlishValue)
      // A stray key, which the strict schema refuses, in one policy of ten.
      .map(([policy, k, stray]) => (k === 0 ? { ...policy, stray } : policy)),
  },
  { weight: 1, arbitrary: yamlishValue },
);

function policyShaped(): fc.Arbitrary<Record<string, unknown>> {
  const optional = { requiredKeys: [] as never[] };
  const stage = fc.oneof(
    { weight: 3, arbitrary: fc.record({ mode: fc.constant('shadow'), duration: field(stageDuration) }) },
    {
      weight: 5,
      arbitrary: fc.record({
        mode: fc.constant('canary'),
        weight: field(
          fc.oneof(
            { weight: 6, arbitrary: fc.integer({ min: 1, max: 101 }) },
            { weight: 1, arbitrary: fc.double({ min: -10, max: 200 }) },
            { weight: 1, arbitrary: numberishText },
          ),
        ),
        duration: field(stageDuration),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record(
        {
          mode: field(fc.constantFrom('shadow', 'canary', 'dark')),
          weight: field(fc.integer()),
          duration: yamlishValue,
        },
        optional,
      ),
    },
  );
  return fc.record(
    {
      approval: field(
        fc.record(
          {
            required: field(fc.boolean()),
            timeout: field(someDuration),
            warnBefore: field(someDuration),
            approvers: field(fc.array(fc.string({ minLength: 1, maxLength: 6 }), { maxLength: 3 })),
            minApprovals: field(fc.integer({ min: 1, max: 5 })),
          },
          optional,
        ),
      ),
      stages: field(fc.array(field(stage), { minLength: 1, maxLength: 4 })),
      analysis: field(
        fc.record(
          {
            interval: field(
              fc.oneof(
                { weight: 5, arbitrary: someDuration },
                { weight: 1, arbitrary: fc.double() },
                { weight: 1, arbitrary: fc.integer() },
              ),
            ),
            minSamples: field(fc.integer({ min: 1, max: 100_000 })),
            maxExtension: field(someDuration),
            alpha: field(fc.double({ min: 0, max: 0.6, noNaN: true })),
            skewnessFactor: field(
              fc.oneof(fc.constantFrom(0, 355), fc.double({ min: -10, max: 2e5, noNaN: true })),
            ),
            routingSettle: field(someDuration),
          },
          optional,
        ),
      ),
      primaryMetric: field(
        fc.record(
          {
            name: fc.constantFrom('abs_error', 'ape', 'latency_ms', 'Bad-Name'),
            direction: fc.constantFrom('lower', 'higher'),
            cap: field(
              fc.oneof(
                fc.record(
                  {
                    quantile: field(fc.double({ min: 0, max: 1.2, noNaN: true })),
                    lookback: field(someDuration),
                  },
                  optional,
                ),
                fc.record({ value: field(fc.oneof(fc.double({ noNaN: true }), numberishText)) }, optional),
              ),
            ),
          },
          { requiredKeys: ['name', 'direction'] },
        ),
      ),
      watch: field(
        fc.record(
          { duration: field(someDuration), holdback: field(fc.integer({ min: -5, max: 60 })) },
          optional,
        ),
      ),
      onInconclusive: field(fc.constantFrom('ask', 'promote', 'rollback', 'maybe')),
      metricSources: field(
        fc.dictionary(
          fc.constantFrom('prom', 'Prom', 'p2'),
          fc.record(
            {
              type: fc.constantFrom('prometheus', 'datadog'),
              address: fc.constantFrom('http://prom:9090', 'ftp://x', 'not a url'),
            },
            optional,
          ),
        ),
      ),
      guardrails: field(
        fc.array(
          fc.record(
            {
              metric: fc.constantFrom('error', 'http_errors', 'Bad-Name'),
              max: field(fc.double({ noNaN: true })),
              quantile: field(fc.double({ min: 0, max: 1, noNaN: true })),
              source: field(fc.constantFrom('prom', 'p2', 'nope')),
              events: field(fc.constantFrom('sum(e{v="{{version}}"})', 'x{{vers}}', '')),
              total: field(fc.constantFrom('sum(t{m="{{model}}"}[{{window}}])', '{{ arm }}')),
            },
            optional,
          ),
          { maxLength: 3 },
        ),
      ),
    },
    optional,
  );
}
