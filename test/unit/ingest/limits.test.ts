import { describe, expect, it } from 'vitest';
import {
  MAX_MAGNITUDE,
  MAX_PREDICTION_BYTES,
  MAX_PREDICTION_DEPTH,
  jsonValueProblem,
  unstorableText,
  unusableNumber,
} from '../../../src/ingest/limits.js';
import { outcomeMetrics } from '../../../src/ingest/rollup-delta.js';

describe('ingestion limits', () => {
  it('refuses text PostgreSQL cannot store, and only that', () => {
    expect(unstorableText('a\u0000b')).toMatch(/NUL/);
    expect(unstorableText('\ud800')).toMatch(/surrogate/);
    expect(unstorableText('x\udc00')).toMatch(/surrogate/);
    expect(unstorableText('\udc00\ud800')).toMatch(/surrogate/);
    expect(unstorableText('😀 ünïcödé ✓')).toBeUndefined();
    expect(unstorableText('\ud83d\ude00')).toBeUndefined();
    expect(unstorableText('')).toBeUndefined();
  });

  it('refuses numbers whose sums of powers would overflow', () => {
    expect(unusableNumber(Number.NaN)).toMatch(/finite/);
    expect(unusableNumber(Infinity)).toMatch(/finite/);
    expect(unusableNumber(-1e308)).toMatch(/magnitude/);
    expect(unusableNumber(MAX_MAGNITUDE)).toBeUndefined();
    expect(unusableNumber(-MAX_MAGNITUDE)).toBeUndefined();
    expect(unusableNumber(0)).toBeUndefined();
    // The largest in-range squared error, squared again (the rollup's sum of squares), summed a billion
    // times, is still finite.
    const sq = (2 * MAX_MAGNITUDE) ** 2;
    expect(Number.isFinite(sq * sq * 1e9)).toBe(true);
  });

  it('checks depth, size, keys and types of object predictions without recursion', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = { a: deep };
    expect(jsonValueProblem(deep)?.reason).toMatch(`deeper than ${MAX_PREDICTION_DEPTH}`);
    let ok: unknown = 1;
    for (let i = 0; i < MAX_PREDICTION_DEPTH - 1; i++) ok = [ok];
    expect(jsonValueProblem(ok)).toBeUndefined();
    expect(jsonValueProblem({ s: 'x'.repeat(MAX_PREDICTION_BYTES) })?.reason).toMatch(/larger than/);
    expect(jsonValueProblem({ 'k\u0000': 1 })).toEqual({
      path: 'k\u0000',
      reason: expect.stringMatching(/^key/),
    });
    expect(jsonValueProblem({ a: [1, { b: Number.NaN }] })).toEqual({
      path: 'a.1.b',
      reason: expect.stringMatching(/finite/),
    });
    expect(jsonValueProblem({ when: new Date() })?.reason).toMatch(/not a JSON value/);
    expect(jsonValueProblem([1n])?.reason).toMatch(/bigint/);
    expect(jsonValueProblem({ f: () => 1 })?.reason).toMatch(/function/);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(jsonValueProblem(circular)?.reason).toMatch(/deeper/);
    expect(jsonValueProblem({ scores: [0.1, 0.9], label: 'cat', ok: true, none: null })).toBeUndefined();
  });

  it('leaves out outcome metrics no statistic could use', () => {
    const stored = { value: 1e308, prediction: 1e308, error: false };
    expect(outcomeMetrics(stored, 1)).toEqual({});
    expect(outcomeMetrics({ value: 1, prediction: 1, error: false }, 1e-200)).toEqual({
      abs_error: 1,
      squared_error: 1,
    });
    expect(outcomeMetrics({ value: 3, prediction: 3, error: false }, 2)).toEqual({
      abs_error: 1,
      squared_error: 1,
      ape: 0.5,
    });
  });
});
