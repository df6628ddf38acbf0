/**
 * An error the person at the terminal can act on: `message` says what went wrong, `hint` what to do next.
 * The CLI prints both without a stack trace; anything else is a bug and is printed with its stack.
 */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
  constructor(
    message: string,
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
