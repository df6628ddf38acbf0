/**
 * The project's base errors. Every error a person can act on is a `UserFacingError`: `message` says what
 * went wrong, `hint` what to do next, and `code` is stable, so the gateway maps it to an HTTP status
 * (src/gateway/error-reply.ts), the CLI prints it, and activities turn it into a non-retryable failure
 * (activities/failures.ts). Anything else is a bug or an outage and is printed with its stack or retried.
 *
 * This module has no side effects and no node: imports, so workflow code may import it too.
 */

export type ErrorCode =
  /** A field of the caller's input is wrong; the message names the field and the value. */
  | 'invalid_input'
  /** What the caller named does not exist (a rollout, an alert, a job, an experiment). */
  | 'not_found'
  | 'unknown_model'
  /** The request contradicts the current state (a rollout already active, a version already registered). */
  | 'conflict'
  | 'illegal_transition'
  | 'no_champion'
  /** The action is not allowed now or by this person (an Update's validator refused it). */
  | 'refused'
  /** The deployment is missing something (no database, no artifact store, a training configuration). */
  | 'configuration'
  /** A stored artifact is missing or is not the one registered. */
  | 'artifact';

export class UserFacingError extends Error {
  override name = 'UserFacingError';
  readonly code: ErrorCode;
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause?: unknown; code?: ErrorCode },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? 'refused';
  }
}

/** Registry and routing errors: the activities' "bad data" that retrying cannot fix. */
export type RegistryErrorCode = Extract<
  ErrorCode,
  'invalid_input' | 'not_found' | 'conflict' | 'illegal_transition' | 'unknown_model' | 'no_champion'
>;

export class RegistryError extends UserFacingError {
  override name = 'RegistryError';
  declare readonly code: RegistryErrorCode;
  constructor(code: RegistryErrorCode, message: string, hint: string) {
    super(message, hint, { code });
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

/**
 * Failure types no retry can fix, for every activity proxy's `nonRetryableErrorTypes`: the registry errors
 * above (by class name, as Temporal reports a thrown error's type) and the types activities give to the
 * ApplicationFailures they raise.
 */
export const NON_RETRYABLE_ERROR_TYPES: string[] = [
  'InvalidInputError',
  'UnknownModelError',
  'RegistryError',
  'ConfigurationError',
  'UnknownJobError',
  'NoChampion',
  'TrainingFailed',
  'ValidationFailed',
  'ArtifactRefused',
  'BacktestFailed',
];
