import { UserFacingError } from '../user-error.js';

/**
 * Registry and routing errors. Each has a stable `code` so activities can mark them non-retryable and the
 * gateway can map them to HTTP statuses; the message names the field and the value.
 */
export type RegistryErrorCode =
  'invalid_input' | 'not_found' | 'conflict' | 'illegal_transition' | 'unknown_model' | 'no_champion';

export class RegistryError extends UserFacingError {
  override name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
    hint: string,
  ) {
    super(message, hint);
  }
}

export class InvalidInputError extends RegistryError {
  override name = 'InvalidInputError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
    hint = 'Correct the value and retry.',
  ) {
    super('invalid_input', `${field}=${showValue(value)}: ${reason}`, hint);
  }
}

/** The value as JSON, or a description when it has none (a cycle, which YAML aliases can make, or a bigint). */
function showValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch (err) {
    if (typeof value === 'bigint') return value.toString();
    return `(not shown: ${(err as Error).message.split('\n')[0]})`;
  }
}

export class UnknownModelError extends RegistryError {
  override name = 'UnknownModelError';
  constructor(readonly model: string) {
    super(
      'unknown_model',
      `Unknown model "${model}"`,
      `Register it first: arena model register ${model} VERSION`,
    );
  }
}
