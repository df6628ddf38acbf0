import { expect } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';

/** The InvalidInputError `fn` throws (fails the test if it throws nothing or something else). */
export function refusal(fn: () => unknown): InvalidInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    return err as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError, got a value');
}
