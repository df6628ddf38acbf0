import { ApplicationFailure } from '@temporalio/activity';
import { RegistryError } from '../src/errors.js';

/**
 * Bad data does not get better by retrying: registry and validation errors become non-retryable
 * ApplicationFailures whose `type` is the error's name (workflows can match on it), carrying code and hint.
 * Anything else (a database that is down, a timeout) is rethrown as is and retried by the activity's policy.
 */
export async function nonRetryableOnBadData<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RegistryError) {
      throw ApplicationFailure.create({
        message: err.message,
        type: err.name,
        nonRetryable: true,
        details: [{ code: err.code, hint: err.hint }],
        cause: err,
      });
    }
    throw err;
  }
}

/** A failure no retry can fix (an unknown model, a policy that does not parse): the workflow sees its type. */
export const fail = (type: string, message: string): never => {
  throw ApplicationFailure.create({ type, message, nonRetryable: true });
};
