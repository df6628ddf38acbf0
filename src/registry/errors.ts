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
    super('invalid_input', `${field}=${JSON.stringify(value)}: ${reason}`, hint);
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
