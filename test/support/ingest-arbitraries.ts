import fc from 'fast-check';
import type pg from 'pg';
import { POISONED_ROLLUP } from '../../src/db/migrations/20261202000008_quarantine_poisoned_rollups.js';
import { BUILTIN_METRICS } from '../../src/ingest/records.js';
import { parseVersion } from '../../src/registry/version.js';

/**
 * fast-check generators for the ingestion data path (src/ingest/records.ts, limits.ts): valid predictions
 * and feedback, hostile records of every kind the limits are meant to refuse, and batches mixing both; plus
 * the checks a fuzzed batch must pass against the database (rows stored = records accepted, rollups equal to
 * what the stored rows imply, nothing poisoned).
 *
 * Two modes: `library` values reach `recordPredictions` as JavaScript values (so bigint, Map, Date,
 * functions, cycles and sparse arrays are fair game); `json` values travel as JSON text through the gateway,
 * so they are what JSON can carry, plus `RawJson` fragments for what JSON.stringify cannot write (1e400,
 * `-0`, 100,000 levels of nesting, escaped lone surrogates).
 */

export type FuzzMode = 'library' | 'json';

/** Spellings of the versions the fuzz tests register, awkward ones included; each must be accepted. */
export const FUZZ_VERSIONS = [
  '1.0.0',
  'v1.0.0',
  ' 1.1.0 ',
  '1.1.0',
  '2.0.0+20250818142000',
  'v2.0.0_20250818_142000',
] as const;

export interface IngestContext {
  /** A registered model. */
  model: string;
  /** Spellings of registered versions, each of which must be accepted ('1.0.0', 'v1.0.0', ' 1.1.0 '). */
  versions: readonly string[];
}

/** A batch and, per record, whether the recorder must accept it (stored or a duplicate). */
export interface FuzzBatch {
  records: unknown[];
  mustAccept: boolean[];
}

const DAY = 86_400_000;
const YEAR = 365.25 * DAY;

// ---------------------------------------------------------------------------------------------------------
// Text and numbers that must be accepted

/** Characters that stress CSV, SQL quoting and UTF-8: quotes, commas, newlines, backslashes, astral planes. */
const AWKWARD_CHARS = [
  'a',
  'Z',
  '0',
  '9',
  '-',
  '_',
  ' ',
  '"',
  "'",
  '\\',
  ',',
  ';',
  '\n',
  '\r',
  '\t',
  '.',
  '\u007f',
  '\u0001',
  'é',
  '€',
  'ß',
  '中',
  '\ufffd',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\u2028',
  '\u202e',
  '𝄞',
  '😀',
  '👩‍💻',
];

/** Cuts a string to at most `max` UTF-16 code units without splitting a surrogate pair. */
export function clipUnits(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = s.slice(0, max);
  const last = out.charCodeAt(out.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
  return out;
}

const storableUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...AWKWARD_CHARS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '\\.',
      "'; drop table predictions; --",
      '$1',
      '%s',
      '{}',
      '{',
      '[',
      'null',
      'NULL',
      '\\N',
    ),
  },
);

/** Text PostgreSQL stores as sent (well-formed UTF-16, no NUL), `minLength`..`maxLength` code units. */
export function storableText(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc
    .string({ unit: storableUnit, maxLength: Math.min(maxLength, 40) })
    .map((s) => clipUnits(s.split('\u0000').join(''), maxLength))
    .map((s) => (s.length >= minLength ? s : s + 'x'.repeat(minLength - s.length)));
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz'.split('');
const NAME_CHARS = [...LOWER, ...'0123456789_'.split('')];

/** A named metric or feature: lower_snake_case, not a built-in name. */
export const metricName: fc.Arbitrary<string> = fc
  .oneof(
    fc
      .tuple(fc.constantFrom(...LOWER), fc.string({ unit: fc.constantFrom(...NAME_CHARS), maxLength: 12 }))
      .map(([a, b]) => a + b),
    fc.constantFrom('constructor', 'valueof', 'tostring', 'hasownproperty', 'revenue', 'x', 'a'.repeat(63)),
  )
  .filter((n) => !(BUILTIN_METRICS as readonly string[]).includes(n));

/** A number a statistic may take: finite, |x| ≤ 1e50 (including -0, subnormals and the bound itself). */
export const statNumber: fc.Arbitrary<number> = fc.oneof(
  fc.double({ min: -1e50, max: 1e50, noNaN: true }),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constantFrom(
    0,
    -0,
    1e50,
    -1e50,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    Number.MAX_SAFE_INTEGER,
    -Number.MAX_SAFE_INTEGER,
    0.1,
    1e-7,
    1e21,
  ),
);

/** A latency: a statistic number ≥ 0 (-0 counts as 0). */
export const latencyMs: fc.Arbitrary<number> = fc.oneof(
  fc.double({ min: 0, max: 10_000, noNaN: true }),
  fc.double({ min: 0, max: 1e50, noNaN: true }),
  fc.constantFrom(0, -0, 5e-324, 1e-3, 1e50),
);

/** `n` distinct metric names with values. */
export const manyMetrics = (n: number): Record<string, number> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i]));

const metricMap = (maxKeys: number, limit: number): fc.Arbitrary<Record<string, number>> =>
  fc.oneof(
    { weight: 9, arbitrary: fc.dictionary(metricName, statNumber, { maxKeys }) },
    // Exactly at the limit on the number of names.
    { weight: 1, arbitrary: fc.constant(null).map(() => manyMetrics(limit)) },
  );

/** A JSON object or array prediction within the limits (≤ 32 deep, ≤ 64 KiB), including the edges. */
function jsonPrediction(mode: FuzzMode): fc.Arbitrary<unknown> {
  const unit = fc.constantFrom(...AWKWARD_CHARS);
  const plain = fc
    .jsonValue({ maxDepth: 4, stringUnit: unit })
    .filter((v) => typeof v === 'object' && v !== null);
  const edges: Array<fc.Arbitrary<unknown>> = [
    fc.constant([]),
    fc.constant({}),
    // Numbers inside an object are stored as JSON, not summed: any finite double is fine there.
    fc.constant({ big: Number.MAX_VALUE, small: -Number.MAX_VALUE, tiny: 5e-324, zero: -0 }),
    // Exactly at the depth limit: 32 nested arrays.
    fc.constant(nest(32, 'array', 1)),
    // Just under the size limit.
    fc.constant({ text: 'x'.repeat(60_000) }),
    fc.constant(Array.from({ length: 2_000 }, (_, i) => i)),
  ];
  if (mode === 'library') {
    edges.push(fc.constant(Object.assign(Object.create(null) as object, { a: 1, b: [true] })));
    // An own "__proto__" key, as JSON.parse makes it (the gateway's parser refuses such a body instead).
    edges.push(fc.constant(JSON.parse('{"__proto__": {"x": 1}, "y": 2}') as unknown));
  }
  return fc.oneof({ weight: 6, arbitrary: plain }, { weight: 1, arbitrary: fc.oneof(...edges) });
}

function predictionValue(mode: FuzzMode): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 4, arbitrary: statNumber },
    { weight: 2, arbitrary: storableText(0, 200) },
    { weight: 1, arbitrary: fc.constant('y'.repeat(10_000)) },
    { weight: 1, arbitrary: fc.constantFrom('yes', 'no', 'cat', 'dog') },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: jsonPrediction(mode) },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Times

/** ISO 8601 with an offset (±HH:MM, or Z), for the instant `t`, with or without milliseconds. */
function isoWithOffset(t: number, offsetMinutes: number, millis: boolean): string {
  const local = new Date(t + offsetMinutes * 60_000).toISOString();
  const body = millis ? local.slice(0, 23) : local.slice(0, 19);
  if (offsetMinutes === 0) return `${body}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${body}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * A plausible `at`: epoch milliseconds or ISO text with an offset, between 9 years back and 29 days ahead of
 * the moment of generation (a day's margin to the plausibility window, so a re-sent batch is judged alike),
 * often near now so that records share rollup buckets.
 */
export const plausibleTime: fc.Arbitrary<string | number> = fc
  .record({
    offset: fc.oneof(
      { weight: 1, arbitrary: fc.integer({ min: Math.round(-9 * YEAR), max: 29 * DAY }) },
      { weight: 4, arbitrary: fc.integer({ min: -3_600_000, max: 60_000 }) },
      { weight: 1, arbitrary: fc.constantFrom(-DAY, -60_000, 0) },
    ),
    form: fc.constantFrom('epoch', 'iso', 'offset'),
    zone: fc.integer({ min: -48, max: 56 }).map((q) => q * 15),
    millis: fc.boolean(),
  })
  .map(({ offset, form, zone, millis }) => {
    const t = Date.now() + offset;
    if (form === 'epoch') return t;
    return isoWithOffset(t, form === 'iso' ? 0 : zone, millis);
  });

// ---------------------------------------------------------------------------------------------------------
// Valid records

/** Every field of a valid prediction except `requestId` (the batch assigns unique ones). */
export function predictionFields(ctx: IngestContext, mode: FuzzMode): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(
    {
      model: fc.constant(ctx.model),
      version: fc.constantFrom(...ctx.versions),
      role: fc.constantFrom('served', 'shadow'),
      prediction: predictionValue(mode),
      unitId: storableText(1, 200),
      latencyMs,
      error: fc.boolean(),
      errorCode: storableText(0, 200),
      metrics: metricMap(4, 100),
      featuresHash: storableText(0, 128),
      features: metricMap(6, 200),
      rolloutId: fc.oneof(fc.constantFrom('', 'ro-1'), storableText(0, 200)),
      segment: fc.oneof(
        { weight: 9, arbitrary: fc.constantFrom('ATL', 'LAX', 'Zürich', 'a"b,c', ' ', '日本') },
        { weight: 1, arbitrary: storableText(1, 100) },
      ),
      at: plausibleTime,
    },
    { requiredKeys: ['model', 'version', 'prediction'] },
  );
}

/** A request-id suffix: usually nothing, sometimes awkward text (the whole id stays ≤ 200 code units). */
const idSuffix = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: storableText(0, 150) },
);

/** A prefix that makes the request ids of one generated batch distinct from every other batch's. */
export const batchPrefix: fc.Arbitrary<string> = fc.string({
  unit: fc.constantFrom(...'0123456789abcdef'.split('')),
  minLength: 12,
  maxLength: 12,
});

/** `n` predictions that must all be stored fresh (ids `${prefix}-${i}`), for "the next good batch". */
export function goodPredictions(
  ctx: IngestContext,
  prefix: string,
  n: number,
): Array<Record<string, unknown>> {
  return Array.from({ length: n }, (_, i) => ({
    requestId: `${prefix}-${i}`,
    model: ctx.model,
    version: ctx.versions[i % ctx.versions.length],
    prediction: i + 0.5,
    latencyMs: 10 + i,
    metrics: { revenue: i },
  }));
}

/** A feedback actual: a statistic number, a label or a boolean. */
export const actualValue: fc.Arbitrary<number | string | boolean> = fc.oneof(
  { weight: 3, arbitrary: statNumber },
  { weight: 1, arbitrary: fc.constantFrom('yes', 'no', 'cat', 'dog', 'true', '1') },
  { weight: 1, arbitrary: storableText(0, 100) },
  { weight: 1, arbitrary: fc.boolean() },
);

// ---------------------------------------------------------------------------------------------------------
// Hostile values

/** A JSON fragment written into the request text as is: what JSON.stringify cannot produce. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A value nested `depth` levels deep, built without recursion (100,000 levels are fine). */
export function nest(depth: number, kind: 'array' | 'object' | 'mixed', leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) {
    const asArray = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
    v = asArray ? [v] : { a: v };
  }
  return v;
}

/** The JSON text of a value nested `depth` levels deep, without building it. */
export function nestText(depth: number, kind: 'array' | 'object' | 'mixed', leaf = '1'): string {
  if (kind === 'array') return '['.repeat(depth) + leaf + ']'.repeat(depth);
  if (kind === 'object') return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
  // Level i (0 innermost) is an array when i is even, as nest() builds it.
  const open: string[] = [];
  const close: string[] = [];
  for (let i = depth - 1; i >= 0; i--) open.push(i % 2 === 0 ? '[' : '{"a":');
  for (let i = 0; i < depth; i++) close.push(i % 2 === 0 ? ']' : '}');
  return open.join('') + leaf + close.join('');
}

const depthArb = fc.oneof(fc.integer({ min: 33, max: 400 }), fc.constantFrom(33, 1_000, 10_000, 100_000));

/** Numbers a statistic must refuse, and some that JSON or a database column cannot hold. */
export const hostileNumber: fc.Arbitrary<number> = fc.constantFrom(
  Number.NaN,
  Infinity,
  -Infinity,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  1e51,
  -1e51,
  1.000001e50,
  2 ** 64,
  -(2 ** 64),
  1e300,
  -1,
  -5e-324,
);

function insertAt(s: string, at: number, piece: string): string {
  const i = Math.min(at, s.length);
  return s.slice(0, i) + piece + s.slice(i);
}

/** Text PostgreSQL cannot store as sent: with NUL, a lone surrogate, raw binary units, or too long. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(storableText(0, 30), fc.nat(), fc.constantFrom('\u0000', '\u0000\u0000'))
    .map(([s, at, p]) => insertAt(s, at, p)),
  fc
    .tuple(storableText(0, 30), fc.nat(), fc.constantFrom('\ud800', '\udbff', '\udc00', '\udfff', '\ud83d'))
    .map(([s, at, p]) => insertAt(s, at, p)),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'binary-ascii', maxLength: 30 }),
  fc.constantFrom('', 'x'.repeat(201), '𝄞'.repeat(101), 'y'.repeat(10_001), ' ', '\u0000'),
);

/** Timestamps outside the plausibility window, out of JavaScript's or PostgreSQL's range, or not times. */
export const hostileTime: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    '0000-01-01T00:00:00Z',
    '0000-01-01T00:00:00.000+00:00',
    '0001-01-01T00:00:00Z',
    '1969-12-31T23:59:59Z',
    '9999-12-31T23:59:59Z',
    '+275760-09-13T00:00:00Z',
    '2026-02-30T00:00:00Z',
    '2026-06-30T23:59:60Z',
    '2026-11-03T00:00:00',
    '2026-11-03T00:00:00+0530',
    '2026-11-03 00:00:00Z',
    'now',
    '',
    1e300,
    -1e300,
    -1,
    -0,
    8.64e15 + 1,
    8.64e15,
    -8.64e15,
    Number.MAX_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER + 2,
    1.5e12 + 0.5,
    Number.NaN,
    Infinity,
  ),
  // Seconds instead of milliseconds, years ahead, decades back.
  fc.constant(null).map(() => Math.floor(Date.now() / 1000)),
  fc.integer({ min: 1, max: 10_000 }).map((years) => Date.now() + years * YEAR),
  fc.integer({ min: 11, max: 1_000 }).map((years) => new Date(Date.now() - years * YEAR).toISOString()),
  fc.integer({ min: 31, max: 3_000 }).map((days) => new Date(Date.now() + days * DAY).toISOString()),
  fc.integer({ min: -8.64e15, max: 8.64e15 }),
);

class Opaque {
  x = 1;
  constructor(readonly y = 'class instance') {}
}

function cyclic(): unknown {
  const a: Record<string, unknown> = { k: 1 };
  a.self = a;
  return a;
}

function cyclicArray(): unknown {
  const a: unknown[] = [1];
  a.push(a);
  return a;
}

/** JavaScript values that are not JSON values (only the library path can receive them). */
export const nonJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
  fc.constant(undefined),
  fc.constant(null).map(() => new Map<unknown, unknown>([['a', 1]])),
  fc.constant(null).map(() => new Set([1, 2])),
  fc.constant(null).map(() => new Opaque()),
  fc.constant(null).map(() => (): number => 1),
  fc.constant(null).map(() => Symbol('s')),
  fc.constant(null).map(() => new Uint8Array([1, 2, 3])),
  fc.constant(null).map(() => Buffer.from('buffer')),
  fc.constant(null).map(() => new Error('an error')),
  fc.constant(null).map(() => /regex/g),
  fc.constant(null).map(() => ({ toJSON: () => 'from toJSON' })),
  fc.constant(null).map(() => ({ nested: { fn: (): void => undefined } })),
  fc.constant(null).map(() => [1, , 3]), // eslint-disable-line no-sparse-arrays
  fc.constant(null).map(() => new Array(100_000)),
  fc.constant(null).map(() => Object.assign([1, 2], { extra: 'prop' })),
  fc.constant(null).map(() => new Number(1)),
  fc.constant(null).map(() => new String('boxed')),
  fc.constant(null).map(() => ({ big: 1n })),
  fc.constant(null).map(() => ({ when: new Date() })),
  fc.constant(null).map(cyclic),
  fc.constant(null).map(cyclicArray),
  fc.constant(null).map(() => ({ [Symbol('k')]: 1, visible: 2 })),
);

/** Objects and arrays too deep or too big for a prediction. */
export function oversizedValue(mode: FuzzMode): fc.Arbitrary<unknown> {
  const built = fc.oneof(
    fc
      .tuple(depthArb, fc.constantFrom('array' as const, 'object' as const, 'mixed' as const))
      .map(([d, k]) => (mode === 'json' ? new RawJson(nestText(d, k)) : nest(d, k))),
    fc.constant(null).map(() => ({ text: 'x'.repeat(70_000) })),
    fc.constant(null).map(() => Array.from({ length: 20_000 }, (_, i) => i)),
    fc.constant(null).map(() => Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]))),
    fc.constant(null).map(() => ['é'.repeat(40_000)]),
    // One name more than a metrics map (100) or a features map (200) may hold.
    fc.constant(null).map(() => manyMetrics(101)),
    fc.constant(null).map(() => manyMetrics(201)),
  );
  return built;
}

/** Fragments of JSON text that parse to hostile values: 1e400 is Infinity, -0 survives, escapes survive. */
export const rawJsonFragment: fc.Arbitrary<RawJson> = fc
  .constantFrom(
    '1e400',
    '-1e400',
    '1E309',
    '1e-400',
    '-0',
    '-0.0e0',
    '123456789012345678901234567890123456789',
    '1e51',
    '1.7976931348623157e308',
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\ud800"',
    '"x\\udfff"',
    '"\\ud83d"',
    '{"a":"\\ud800"}',
    '{"\\ud800":1}',
    '{"\\u0000":1}',
    '[1e400]',
    '{"m":1e400}',
    '{"m":-1e400}',
    '{"revenue":1e308}',
    '{"revenue":1e400}',
    '[[[[[[[[[[]]]]]]]]]]',
    '{}',
    '[]',
    'true',
    'null',
  )
  .map((t) => new RawJson(t));

/** A hostile value for any field: wrong types, bad numbers, bad text, bad times, deep and big values. */
export function hostileValue(mode: FuzzMode): fc.Arbitrary<unknown> {
  const common: Array<fc.WeightedArbitrary<unknown>> = [
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }) },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 3, arbitrary: hostileText },
    { weight: 2, arbitrary: hostileTime },
    { weight: 1, arbitrary: oversizedValue(mode) },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, 0, '', [], {}) },
  ];
  if (mode === 'library') {
    common.push(
      {
        weight: 3,
        arbitrary: fc.anything({
          maxDepth: 3,
          maxKeys: 5,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withSparseArray: true,
          withTypedArray: true,
          withBoxedValues: true,
          withObjectString: true,
        }),
      },
      { weight: 2, arbitrary: nonJsonValue },
    );
  } else {
    common.push({ weight: 3, arbitrary: rawJsonFragment });
  }
  return fc.oneof(...common);
}

// ---------------------------------------------------------------------------------------------------------
// Mutations of a valid record

export const PREDICTION_FIELDS = [
  'requestId',
  'unitId',
  'model',
  'version',
  'role',
  'prediction',
  'latencyMs',
  'error',
  'errorCode',
  'metrics',
  'featuresHash',
  'features',
  'rolloutId',
  'segment',
  'at',
] as const;
export const FEEDBACK_FIELDS = ['model', 'requestId', 'actual', 'at'] as const;

type Mutation =
  | { op: 'set'; field: string; value: unknown }
  | { op: 'delete'; field: string }
  | { op: 'extra'; key: string; value: unknown }
  | { op: 'inside'; field: string; key: string; value: unknown }
  | { op: 'replace'; value: unknown };

const extraKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    'tenant_id',
    'tenantId',
    'id',
    'Model',
    'requestid',
    ' requestId',
    'requestId\u0000',
    'request_id',
    'constructor',
    '__proto__',
    'toString',
    'actual',
    'prediction ',
  ),
);

/** Keys inside metrics/features/prediction objects that are refused, or dangerous for plain objects. */
const insideKey = fc.oneof(
  metricName,
  // Not "__proto__": z.record drops that key silently instead of refusing it (a src bug with a regression
  // case of its own in recorder-fuzz.test.ts), which the round-trip check would report on every run.
  fc.constantFrom('Bad', 'error', 'latency_ms', 'abs_error', '', '1st', 'a'.repeat(64), 'a-b', 'é'),
  hostileText,
);

function mutation(mode: FuzzMode, fields: readonly string[]): fc.Arbitrary<Mutation> {
  const field = fc.constantFrom(...fields);
  const value = hostileValue(mode);
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ op: fc.constant('set' as const), field, value }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), field }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('extra' as const), key: extraKey, value }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant('inside' as const),
        field: fc.constantFrom(
          ...fields.filter((f) => ['metrics', 'features', 'prediction', 'actual'].includes(f)),
        ),
        key: insideKey,
        value: fc.oneof(value, statNumber),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('replace' as const), value }) },
  );
}

/** Sets an own property, even one named __proto__ (an assignment would change the prototype instead). */
function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function applyMutation(record: Record<string, unknown>, m: Mutation): unknown {
  if (m.op === 'replace') return m.value;
  const out: Record<string, unknown> = { ...record };
  if (m.op === 'set') define(out, m.field, m.value);
  else if (m.op === 'delete') delete out[m.field];
  else if (m.op === 'extra') define(out, m.key, m.value);
  else {
    const container: Record<string, unknown> = {};
    const current = out[m.field];
    if (current && typeof current === 'object' && !Array.isArray(current)) Object.assign(container, current);
    define(container, m.key, m.value);
    define(out, m.field, container);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Batches

type Entry =
  | { kind: 'good'; fields: Record<string, unknown>; suffix: string }
  | { kind: 'hostile'; fields: Record<string, unknown>; suffix: string; mutation: Mutation }
  | { kind: 'repeat'; fields: Record<string, unknown>; of: number; sameKey: boolean; respell: boolean };

export interface BatchSize {
  minLength?: number;
  maxLength: number;
}

/** `v1.0.0` for `1.0.0` and back: another spelling of the same registered version. */
function respelled(version: unknown): unknown {
  if (typeof version !== 'string') return version;
  const t = version.trim();
  if (/^\d/.test(t)) return `v${t}`;
  if (/^v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/.test(t)) return ` ${t.slice(1)} `;
  return version;
}

/**
 * A batch of predictions mixing valid records (which must be accepted), hostile ones (a valid record with
 * one field set to a hostile value, a key removed or added, or the whole record replaced) and repeats of an
 * earlier valid record's request id (same key, sometimes spelled differently, or another version or role).
 */
export function predictionBatch(
  ctx: IngestContext,
  mode: FuzzMode,
  size: BatchSize,
): fc.Arbitrary<FuzzBatch> {
  const fields = predictionFields(ctx, mode);
  const entry: fc.Arbitrary<Entry> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('good' as const), fields, suffix: idSuffix }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('hostile' as const),
        fields,
        suffix: idSuffix,
        mutation: mutation(mode, PREDICTION_FIELDS),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('repeat' as const),
        fields,
        of: fc.nat(),
        sameKey: fc.boolean(),
        respell: fc.boolean(),
      }),
    },
  );
  return fc
    .tuple(
      batchPrefix,
      fc.array(entry, { minLength: size.minLength ?? 0, maxLength: size.maxLength, size: 'max' }),
    )
    .map(([prefix, entries]) => {
      const records: unknown[] = [];
      const mustAccept: boolean[] = [];
      const goodIndices: number[] = [];
      entries.forEach((e, i) => {
        const requestId = `${prefix}-${i}`;
        if (e.kind === 'good' || (e.kind === 'repeat' && goodIndices.length === 0)) {
          records.push({ requestId: e.kind === 'good' ? requestId + e.suffix : requestId, ...e.fields });
          mustAccept.push(true);
          goodIndices.push(i);
        } else if (e.kind === 'hostile') {
          records.push(applyMutation({ requestId: requestId + e.suffix, ...e.fields }, e.mutation));
          mustAccept.push(false);
        } else {
          const earlier = records[goodIndices[e.of % goodIndices.length]!] as Record<string, unknown>;
          const again: Record<string, unknown> = { ...e.fields, requestId: earlier.requestId };
          if (e.sameKey) {
            again.version = e.respell ? respelled(earlier.version) : earlier.version;
            if ('role' in earlier) again.role = earlier.role;
            else delete again.role;
          }
          records.push(again);
          mustAccept.push(true);
          goodIndices.push(i);
        }
      });
      return { records, mustAccept };
    });
}

export interface FeedbackScenario {
  /** Valid predictions stored before the feedback (all must be accepted). */
  before: Array<Record<string, unknown>>;
  feedback: FuzzBatch;
  /** Valid predictions stored after it, for requests whose feedback came first (all must be accepted). */
  after: Array<Record<string, unknown>>;
}

type FeedbackEntry =
  | { kind: 'good'; target: number; actual: unknown; at: unknown }
  | { kind: 'hostile'; target: number; actual: unknown; mutation: Mutation }
  | { kind: 'repeat'; of: number; actual: unknown };

/**
 * Predictions for `requests` request ids (served, shadow or both, numeric or label predictions), feedback for
 * some of them (and for ids no prediction has), mixed with hostile feedback and repeated request ids, and
 * predictions that arrive after their feedback: every order in which outcomes and shadow pairs can complete.
 */
export function feedbackScenario(
  ctx: IngestContext,
  mode: FuzzMode,
  size: { requests: number; feedback: number },
): fc.Arbitrary<FeedbackScenario> {
  const prediction = fc.record({
    version: fc.constantFrom(...ctx.versions),
    value: fc.oneof(
      { weight: 4, arbitrary: statNumber },
      { weight: 2, arbitrary: fc.constantFrom('yes', 'no', 'cat', true, false, null) },
      { weight: 1, arbitrary: predictionValue(mode) },
    ),
    error: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    at: fc.option(plausibleTime, { nil: undefined }),
    late: fc.boolean(),
  });
  const request = fc.record({
    served: fc.option(prediction, { nil: undefined, freq: 4 }),
    shadow: fc.option(prediction, { nil: undefined, freq: 2 }),
  });
  const target = fc.nat();
  const entry: fc.Arbitrary<FeedbackEntry> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('good' as const),
        target,
        actual: actualValue,
        at: fc.option(plausibleTime, { nil: undefined }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('hostile' as const),
        target,
        actual: actualValue,
        mutation: mutation(mode, FEEDBACK_FIELDS),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('repeat' as const), of: fc.nat(), actual: actualValue }),
    },
  );
  return fc
    .tuple(
      batchPrefix,
      fc.array(request, { minLength: 1, maxLength: size.requests, size: 'max' }),
      fc.array(entry, { minLength: 0, maxLength: size.feedback, size: 'max' }),
    )
    .map(([prefix, requests, entries]) => {
      const before: Array<Record<string, unknown>> = [];
      const after: Array<Record<string, unknown>> = [];
      requests.forEach((r, i) => {
        for (const role of ['served', 'shadow'] as const) {
          const p = r[role];
          if (!p) continue;
          const record: Record<string, unknown> = {
            requestId: `${prefix}-${i}`,
            model: ctx.model,
            version: p.version,
            role,
            prediction: p.value,
            error: p.error,
          };
          if (p.at !== undefined) record.at = p.at;
          (p.late ? after : before).push(record);
        }
      });
      // Ids past the requests have no prediction at all.
      const idOf = (t: number): string => `${prefix}-${t % (requests.length + 3)}`;
      const records: unknown[] = [];
      const mustAccept: boolean[] = [];
      const goodIds: string[] = [];
      for (const e of entries) {
        if (e.kind === 'good' || (e.kind === 'repeat' && goodIds.length === 0)) {
          const requestId = e.kind === 'good' ? idOf(e.target) : idOf(0);
          const record: Record<string, unknown> = { model: ctx.model, requestId, actual: e.actual };
          if (e.kind === 'good' && e.at !== undefined) record.at = e.at;
          records.push(record);
          mustAccept.push(true);
          goodIds.push(requestId);
        } else if (e.kind === 'hostile') {
          records.push(
            applyMutation({ model: ctx.model, requestId: idOf(e.target), actual: e.actual }, e.mutation),
          );
          mustAccept.push(false);
        } else {
          records.push({ model: ctx.model, requestId: goodIds[e.of % goodIds.length]!, actual: e.actual });
          mustAccept.push(true);
        }
      }
      return { before, feedback: { records, mustAccept }, after };
    });
}

// ---------------------------------------------------------------------------------------------------------
// JSON text

/**
 * The JSON text of a value as JSON.stringify would write it, except that RawJson fragments are written as
 * they are. Recursion is only over the generated structure, never into a RawJson fragment, so a fragment
 * may hold 100,000 levels of nesting.
 */
export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? JSON.stringify(value) : 'null';
  if (typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : toJsonText(v))).join(',')}]`;
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      parts.push(`${JSON.stringify(k)}:${toJsonText(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return 'null';
}

/** Raw request bodies: arbitrary text and JSON, deep nesting, huge numbers, truncated and wrapped batches. */
export function rawBody(ctx: IngestContext): fc.Arbitrary<string> {
  const good = `{"requestId":"raw","model":${JSON.stringify(ctx.model)},"version":${JSON.stringify(ctx.versions[0])},"prediction":1}`;
  return fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.json({ maxDepth: 3 }),
    fc.json({ maxDepth: 2, stringUnit: 'binary' }),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify({ records: v })),
    fc
      .tuple(depthArb, fc.constantFrom('array' as const, 'object' as const, 'mixed' as const))
      .map(([d, k]) => nestText(d, k)),
    fc
      .tuple(depthArb, fc.constantFrom('array' as const, 'object' as const))
      .map(([d, k]) => `[${nestText(d, k)}]`),
    fc.constantFrom(
      '',
      ' ',
      'null',
      '0',
      '1e400',
      '"records"',
      '[]',
      '{}',
      '{"records":null}',
      '{"records":{}}',
      '{"records":[]}',
      '[null]',
      '[1e400]',
      '[[]]',
      '[{}]',
      `[${good}`,
      `[${good},]`,
      `[${good}]]`,
      `{"records":[${good}]}`,
      `[${good.replace('"prediction":1', '"prediction":1e400')}]`,
      `[${good.replace('"prediction":1', '"prediction":-1e400,"latencyMs":1e400')}]`,
      `[${good.replace('"prediction":1', `"prediction":${nestText(100_000, 'array')}`)}]`,
      `[${good.replace('"prediction":1', '"prediction":{"__proto__":{"polluted":true}}')}]`,
      `[${good.replace('"prediction":1', '"prediction":{"constructor":{"prototype":{"polluted":true}}}')}]`,
      `[${good.replace('"prediction":1', '"prediction":"\\ud800"')}]`,
      `\ufeff[${good}]`,
      `[${good}]\u0000`,
      '[' + Array.from({ length: 2_000 }, () => '1e400').join(',') + ']',
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Checks

/** Resolves as `promise` does, or rejects when it has not settled within `ms`: a hang is the bug. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms (a hang)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Outcome {
  accepted: number;
  duplicates: number;
  rejected: Array<{ index: number; field: string; reason: string }>;
}

/**
 * What must hold of any answer to a batch of `n`: each index accepted or rejected exactly once, every
 * rejection with an index in range and a non-empty field and reason. Returns the accepted indices.
 */
export function partition(outcome: Outcome, n: number): { accepted: number[]; problems: string[] } {
  const problems: string[] = [];
  const rejected = new Set<number>();
  for (const r of outcome.rejected) {
    if (!Number.isInteger(r.index) || r.index < 0 || r.index >= n)
      problems.push(`index ${r.index} out of range`);
    if (rejected.has(r.index)) problems.push(`index ${r.index} rejected twice`);
    rejected.add(r.index);
    if (typeof r.field !== 'string' || r.field.length === 0) problems.push(`index ${r.index}: empty field`);
    if (typeof r.reason !== 'string' || r.reason.length === 0)
      problems.push(`index ${r.index}: empty reason`);
  }
  if (outcome.accepted + outcome.rejected.length !== n)
    problems.push(`accepted ${outcome.accepted} + rejected ${outcome.rejected.length} ≠ ${n}`);
  if (!(outcome.duplicates >= 0 && outcome.duplicates <= outcome.accepted))
    problems.push(`duplicates ${outcome.duplicates} outside 0..${outcome.accepted}`);
  const accepted: number[] = [];
  for (let i = 0; i < n; i++) if (!rejected.has(i)) accepted.push(i);
  return { accepted, problems };
}

export interface PredictionKey {
  model: string;
  requestId: string;
  version: string;
  role: string;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Text a key of a valid record can hold (anything else could not even be looked up). */
const storable = (v: unknown): v is string =>
  typeof v === 'string' && !v.includes('\u0000') && !LONE_SURROGATE.test(v);

/** The stored key of a record that may be valid: undefined when it cannot be. */
export function predictionKey(record: unknown): PredictionKey | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const r = record as Record<string, unknown>;
  if (!storable(r.model) || !storable(r.requestId) || !storable(r.version)) return undefined;
  let version: string;
  try {
    version = parseVersion(r.version).version;
  } catch {
    return undefined;
  }
  const role = r.role === undefined ? 'served' : r.role;
  if (role !== 'served' && role !== 'shadow') return undefined;
  return { model: r.model, requestId: r.requestId, version, role };
}

export function feedbackKey(record: unknown): { model: string; requestId: string } | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const r = record as Record<string, unknown>;
  if (!storable(r.model) || !storable(r.requestId)) return undefined;
  return { model: r.model, requestId: r.requestId };
}

export const keyText = (k: object): string => JSON.stringify(Object.values(k));

/** JSON text with object keys sorted, for comparing a value with what jsonb gives back (-0 is 0 there). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const instant = (at: unknown): number | undefined =>
  typeof at === 'number' || typeof at === 'string' ? new Date(at).getTime() : undefined;

/**
 * How a stored prediction row differs from the record that was accepted for it, or undefined when it holds
 * exactly what was sent (after the documented normalisation: version canonical, role and error defaulted,
 * rollout '' when absent, numbers as float8 and jsonb give them back). A record's `at` left out is not
 * compared (the recorder's clock).
 */
export function predictionMismatch(record: unknown, row: Record<string, unknown>): string | undefined {
  const r = record as Record<string, unknown>;
  const checks: Array<[string, unknown, unknown]> = [
    ['unit_id', r.unitId ?? null, row.unit_id],
    ['rollout_id', r.rolloutId ?? '', row.rollout_id],
    ['segment', r.segment ?? null, row.segment],
    ['value', typeof r.prediction === 'number' ? r.prediction : null, row.value],
    ['latency_ms', r.latencyMs ?? null, row.latency_ms],
    ['error', r.error ?? false, row.error],
    ['error_code', r.errorCode ?? null, row.error_code],
    ['features_hash', r.featuresHash ?? null, row.features_hash],
    ['prediction', canonicalJson(r.prediction), canonicalJson(row.prediction)],
    ['metrics', canonicalJson(r.metrics ?? null), canonicalJson(row.metrics)],
    ['features', canonicalJson(r.features ?? null), canonicalJson(row.features)],
  ];
  if (r.at !== undefined) checks.push(['at', instant(r.at), (row.at as Date).getTime()]);
  for (const [field, sent, stored] of checks) {
    // 0 === -0: float8 and jsonb keep no sign of zero.
    if (sent !== stored && !(Number.isNaN(sent) && Number.isNaN(stored)))
      return `${field}: sent ${String(sent).slice(0, 200)}, stored ${String(stored).slice(0, 200)}`;
  }
  return undefined;
}

export function feedbackMismatch(record: unknown, row: Record<string, unknown>): string | undefined {
  const r = record as Record<string, unknown>;
  const checks: Array<[string, unknown, unknown]> = [
    ['actual', canonicalJson(r.actual), canonicalJson(row.actual)],
    ['value', typeof r.actual === 'number' ? r.actual : null, row.value],
  ];
  if (r.at !== undefined) checks.push(['at', instant(r.at), (row.at as Date).getTime()]);
  for (const [field, sent, stored] of checks)
    if (sent !== stored)
      return `${field}: sent ${String(sent).slice(0, 200)}, stored ${String(stored).slice(0, 200)}`;
  return undefined;
}

/**
 * The stored rows of these records' keys, compared with the records: for each key, the row must hold what
 * one of the accepted records with that key sent (the first in the batch, unless racing writes stored a
 * later one). Returns the differences.
 */
export async function roundTripProblems(
  pool: pg.Pool,
  tenantId: string,
  kind: 'predictions' | 'feedback',
  accepted: unknown[],
): Promise<string[]> {
  const byKey = new Map<string, unknown[]>();
  const keys: object[] = [];
  for (const record of accepted) {
    const key = kind === 'predictions' ? predictionKey(record) : feedbackKey(record);
    if (!key) return ['an accepted record has no key'];
    const text = keyText(key);
    const list = byKey.get(text);
    if (list) list.push(record);
    else {
      byKey.set(text, [record]);
      keys.push(key);
    }
  }
  if (keys.length === 0) return [];
  const { rows } =
    kind === 'predictions'
      ? await pool.query<Record<string, unknown>>(
          `select p.* from predictions p
             join unnest($2::text[], $3::text[], $4::text[], $5::text[]) as k(model, request_id, version, role)
               using (model, request_id, version, role)
            where p.tenant_id = $1`,
          [
            tenantId,
            ...(['model', 'requestId', 'version', 'role'] as const).map((f) =>
              (keys as PredictionKey[]).map((k) => k[f]),
            ),
          ],
        )
      : await pool.query<Record<string, unknown>>(
          `select f.* from feedback f
             join unnest($2::text[], $3::text[]) as k(model, request_id) using (model, request_id)
            where f.tenant_id = $1`,
          [
            tenantId,
            ...(['model', 'requestId'] as const).map((f) =>
              (keys as Array<{ model: string; requestId: string }>).map((k) => k[f]),
            ),
          ],
        );
  const problems: string[] = [];
  if (rows.length !== keys.length) problems.push(`${keys.length} keys accepted, ${rows.length} rows stored`);
  const mismatch = kind === 'predictions' ? predictionMismatch : feedbackMismatch;
  for (const row of rows) {
    const key =
      kind === 'predictions'
        ? { model: row.model, requestId: row.request_id, version: row.version, role: row.role }
        : { model: row.model, requestId: row.request_id };
    const candidates = byKey.get(keyText(key)) ?? [];
    const differences = candidates.map((c) => mismatch(c, row));
    if (!differences.includes(undefined))
      problems.push(`${String(row.request_id).slice(0, 60)}: ${differences[0] ?? 'no accepted record'}`);
  }
  return problems.slice(0, 20);
}

/** Which of these prediction keys are stored for the tenant. */
export async function storedPredictionKeys(
  pool: pg.Pool,
  tenantId: string,
  keys: PredictionKey[],
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await pool.query<{ model: string; request_id: string; version: string; role: string }>(
    `select p.model, p.request_id, p.version, p.role
       from predictions p
       join unnest($2::text[], $3::text[], $4::text[], $5::text[]) as k(model, request_id, version, role)
         using (model, request_id, version, role)
      where p.tenant_id = $1`,
    [
      tenantId,
      keys.map((k) => k.model),
      keys.map((k) => k.requestId),
      keys.map((k) => k.version),
      keys.map((k) => k.role),
    ],
  );
  return new Set(
    rows.map((r) => keyText({ model: r.model, requestId: r.request_id, version: r.version, role: r.role })),
  );
}

export async function storedFeedbackKeys(
  pool: pg.Pool,
  tenantId: string,
  keys: Array<{ model: string; requestId: string }>,
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const { rows } = await pool.query<{ model: string; request_id: string }>(
    `select f.model, f.request_id
       from feedback f
       join unnest($2::text[], $3::text[]) as k(model, request_id) using (model, request_id)
      where f.tenant_id = $1`,
    [tenantId, keys.map((k) => k.model), keys.map((k) => k.requestId)],
  );
  return new Set(rows.map((r) => keyText({ model: r.model, requestId: r.request_id })));
}

export async function countRows(
  pool: pg.Pool,
  table: 'predictions' | 'feedback',
  tenantId: string,
): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `select count(*)::int as n from ${table} where tenant_id = $1`,
    [tenantId],
  );
  return rows[0]!.n;
}

/**
 * A fingerprint of the tenant's rollups: equal before and after means no rollup row was added or written
 * (every upsert sets updated_at to its transaction's start, later than any earlier one) and no count moved.
 */
export async function rollupFingerprint(pool: pg.Pool, tenantId: string): Promise<string> {
  const { rows } = await pool.query<{ fingerprint: string }>(
    `select concat_ws('/', count(*), sum(count), sum(paired_count), sum(error_count), max(updated_at),
                      (select concat_ws('/', count(*), sum(count), sum(paired_count), max(updated_at))
                         from segment_rollups where tenant_id = $1)) as fingerprint
       from metric_rollups where tenant_id = $1`,
    [tenantId],
  );
  return rows[0]!.fingerprint;
}

/** Empties the ingestion tables, so that a property's run starts from nothing and shrinking means something. */
export async function resetIngestTables(pool: pg.Pool): Promise<void> {
  await pool.query('truncate predictions, feedback, metric_rollups, segment_rollups, model_segments');
}

/**
 * Every way the tenant's rollups disagree with its stored rows (empty when they agree), per (model, rollout,
 * version, role, metric, bucket): the `error` count is the number of stored predictions (each counted once)
 * and its error_count their errors; `latency_ms` counts those with a latency; each named metric counts the
 * predictions that carry it; `abs_error` counts the stored (prediction, numeric feedback) pairs with a
 * numeric prediction, `correct` those with label feedback, errors excluded; the histogram of every metric
 * but the 0/1 ones counts as many, and its moments, when known, have the same bins; the paired counts of a
 * shadow row count its served partners; and no rollup holds a poisoned value.
 */
export async function rollupProblems(pool: pg.Pool, tenantId: string, bucketSeconds = 60): Promise<string[]> {
  const bucket = (alias: string) =>
    `to_timestamp(floor(extract(epoch from ${alias}.at) / ${bucketSeconds}) * ${bucketSeconds})`;
  const { rows } = await pool.query<{ problem: string }>(
    `with pb as (
       select p.*, ${bucket('p')} as bucket from predictions p where p.tenant_id = $1
     ),
     expected as (
       select model, rollout_id, version, role, 'error' as metric, bucket,
              count(*) as n, sum(case when error then 1 else 0 end) as errors, 0::bigint as paired
         from pb group by 1, 2, 3, 4, 5, 6
       union all
       select model, rollout_id, version, role, 'latency_ms', bucket, count(*), 0, 0
         from pb where latency_ms is not null group by 1, 2, 3, 4, 5, 6
       union all
       select model, rollout_id, version, role, k, bucket, count(*), 0, 0
         from pb cross join lateral jsonb_object_keys(pb.metrics) as k
        where pb.metrics is not null
        group by 1, 2, 3, 4, 5, 6
     ),
     pf as (
       select pb.*, jsonb_typeof(f.actual) as actual_type
         from pb join feedback f on f.tenant_id = pb.tenant_id and f.model = pb.model and f.request_id = pb.request_id
        where not pb.error
     ),
     outcome as (
       select model, rollout_id, version, role,
              case when actual_type = 'number' then 'abs_error' else 'correct' end as metric, bucket,
              count(*) as n
         from pf where (actual_type = 'number' and value is not null) or actual_type in ('string', 'boolean')
        group by 1, 2, 3, 4, 5, 6
     ),
     paired as (
       select h.model, h.rollout_id, h.version, h.role,
              case when h.actual_type = 'number' then 'abs_error' else 'correct' end as metric, h.bucket,
              count(*) as n
         from pf h join pf s on s.model = h.model and s.request_id = h.request_id and s.role = 'served'
        where h.role = 'shadow'
          and ((h.actual_type = 'number' and h.value is not null and s.value is not null)
               or h.actual_type in ('string', 'boolean'))
        group by 1, 2, 3, 4, 5, 6
     ),
     wanted as (
       select model, rollout_id, version, role, metric, bucket,
              sum(n) as n, sum(errors) as errors, sum(paired) as paired
         from (select * from expected
               union all select model, rollout_id, version, role, metric, bucket, n, 0, 0 from outcome
               union all select model, rollout_id, version, role, metric, bucket, 0, 0, n from paired) all_rows
        group by 1, 2, 3, 4, 5, 6
     ),
     have as (
       select model, rollout_id, version, role, metric, bucket_start as bucket, count, error_count, paired_count,
              case when metric not in ('error', 'correct')
                   then (select coalesce(sum(value::numeric), 0) from jsonb_each_text(histogram)) end as histogram_count,
              histogram_moments = '{}'::jsonb
                or (select array_agg(k order by k) from jsonb_object_keys(histogram) k)
                   = (select array_agg(k order by k) from jsonb_object_keys(histogram_moments) k) as moment_bins_agree
         from metric_rollups
        where tenant_id = $1 and metric not in ('squared_error', 'ape')
     )
     select format('%s/%s/%s/%s %s @ %s: expected count %s errors %s paired %s, rollup has count %s errors %s paired %s histogram %s moment bins agree %s',
                   coalesce(w.model, h.model), coalesce(w.rollout_id, h.rollout_id), coalesce(w.version, h.version),
                   coalesce(w.role, h.role), coalesce(w.metric, h.metric), coalesce(w.bucket, h.bucket),
                   w.n, w.errors, w.paired, h.count, h.error_count, h.paired_count, h.histogram_count,
                   h.moment_bins_agree) as problem
       from wanted w full join have h using (model, rollout_id, version, role, metric, bucket)
      where coalesce(w.n, 0) <> coalesce(h.count, 0)
         or coalesce(w.errors, 0) <> coalesce(h.error_count, 0)
         or coalesce(w.paired, 0) <> coalesce(h.paired_count, 0)
         or (h.metric not in ('error', 'correct') and h.histogram_count <> h.count)
         or not h.moment_bins_agree
     union all
     select format('poisoned rollup %s/%s %s @ %s: sum %s sum_sq %s min %s max %s', model, version, metric,
                   bucket_start, sum, sum_sq, min, max)
       from metric_rollups where tenant_id = $1 and ${POISONED_ROLLUP}
     union all
     -- Per-segment rows: every segment's row of a named metric counts the stored predictions of that segment
     -- carrying it (no run reaches the tracking limit), and per key the segments' counts of every metric
     -- (outcomes too) add up to no more than the pooled row's.
     select format('segment %s/%s/%s/%s %s %s @ %s: %s predictions, segment rollup counts %s',
                   coalesce(e.model, s.model), coalesce(e.rollout_id, s.rollout_id), coalesce(e.version, s.version),
                   coalesce(e.role, s.role), coalesce(e.segment, s.segment), coalesce(e.metric, s.metric),
                   coalesce(e.bucket, s.bucket), e.n, s.count)
       from (select model, rollout_id, version, role, segment, k as metric, ${bucket('p')} as bucket, count(*) as n
               from predictions p cross join lateral jsonb_object_keys(p.metrics) as k
              where tenant_id = $1 and segment is not null and p.metrics is not null
              group by 1, 2, 3, 4, 5, 6, 7) e
       full join (select model, rollout_id, version, role, segment, metric, bucket_start as bucket, count
                    from segment_rollups
                   where tenant_id = $1 and metric not in ('abs_error', 'squared_error', 'ape', 'correct', 'log_loss')) s
         using (model, rollout_id, version, role, segment, metric, bucket)
      where coalesce(e.n, 0) <> coalesce(s.count, 0)
     union all
     select format('segments of %s/%s %s @ %s count %s, more than the pooled %s', s.model, s.version, s.metric,
                   s.bucket_start, s.count, m.count)
       from (select model, rollout_id, version, role, metric, bucket_start,
                    sum(count) as count, sum(paired_count) as paired
               from segment_rollups where tenant_id = $1 group by 1, 2, 3, 4, 5, 6) s
       left join metric_rollups m on m.tenant_id = $1 and m.model = s.model and m.rollout_id = s.rollout_id
            and m.version = s.version and m.role = s.role and m.metric = s.metric and m.bucket_start = s.bucket_start
      where m.count is null or s.count > m.count or s.paired > m.paired_count
     limit 20`,
    [tenantId],
  );
  return rows.map((r) => r.problem);
}

/** The fuzz seed: ARENA_FUZZ_SEED when set (to replay a failure), else a fresh one, printed. */
export function fuzzSeed(label: string): number {
  const fromEnv = process.env.ARENA_FUZZ_SEED;
  const seed =
    fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : Math.floor(Math.random() * 2 ** 31);
  if (!Number.isInteger(seed)) throw new Error(`ARENA_FUZZ_SEED must be an integer, got ${fromEnv}`);
  console.info(`${label}: fast-check seed ${seed} (replay with ARENA_FUZZ_SEED=${seed})`);
  return seed;
}

/** numRuns scaled by ARENA_FUZZ_RUNS_SCALE (default 1), at least 1. */
export function fuzzRuns(runs: number): number {
  const scale = Number(process.env.ARENA_FUZZ_RUNS_SCALE ?? '1');
  return Math.max(1, Math.round(runs * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}
