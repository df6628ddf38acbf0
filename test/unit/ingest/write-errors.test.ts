import { describe, expect, it } from 'vitest';
import { classifyWriteError, isDatabaseUnavailable } from '../../../src/ingest/write-errors.js';

const pgError = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('classifyWriteError', () => {
  it.each([
    ['08006', 'transient'],
    ['57P01', 'transient'],
    ['57014', 'transient'],
    ['40001', 'transient'],
    ['40P01', 'transient'],
    ['53300', 'transient'],
    ['55P03', 'transient'],
    ['22021', 'record'],
    ['22P02', 'record'],
    ['22008', 'record'],
    ['23514', 'record'],
    ['23505', 'record'],
    ['54000', 'record'],
    ['42P01', 'batch'],
    ['42501', 'batch'],
    ['XX000', 'batch'],
  ] as const)('SQLSTATE %s is %s', (code, kind) => {
    expect(classifyWriteError(pgError(code))).toBe(kind);
  });

  it('treats lost and refused connections as transient', () => {
    expect(classifyWriteError(pgError('ECONNREFUSED'))).toBe('transient');
    expect(classifyWriteError(pgError('ECONNRESET'))).toBe('transient');
    expect(classifyWriteError(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(classifyWriteError(new Error('timeout exceeded when trying to connect'))).toBe('transient');
  });

  it('charges errors thrown before the database saw the batch to the records, so they are bisected, never retried', () => {
    expect(classifyWriteError(new RangeError('Invalid time value'))).toBe('record');
    expect(classifyWriteError(new RangeError('Maximum call stack size exceeded'))).toBe('record');
    expect(classifyWriteError(new TypeError('Do not know how to serialize a BigInt'))).toBe('record');
    expect(classifyWriteError('a string')).toBe('record');
    expect(classifyWriteError(undefined)).toBe('record');
  });

  it('calls the database unavailable only for connection and availability failures', () => {
    expect(isDatabaseUnavailable(pgError('ECONNREFUSED'))).toBe(true);
    expect(isDatabaseUnavailable(pgError('57P01'))).toBe(true);
    expect(
      isDatabaseUnavailable(new Error('Knex: Timeout acquiring a connection. The pool is probably full.')),
    ).toBe(true);
    expect(isDatabaseUnavailable(pgError('23505'))).toBe(false);
    expect(isDatabaseUnavailable(new RangeError('x'))).toBe(false);
  });
});
