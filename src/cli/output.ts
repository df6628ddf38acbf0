import { ZodError } from 'zod';
import { ConfigError } from '../config/env.js';
import { UserFacingError } from '../errors.js';

/** Prints `data` as JSON when --json was given, otherwise the human text. Data always goes to stdout. */
export function emit(json: boolean | undefined, data: unknown, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text()}\n`);
}

/** Errors go to stderr with a non-zero exit; the ones a user can fix get a hint and no stack trace. */
export function reportError(err: unknown, json = false): number {
  if (err instanceof UserFacingError) {
    if (json)
      process.stderr.write(`${JSON.stringify({ error: err.message, hint: err.hint, code: err.code })}\n`);
    else process.stderr.write(`error: ${err.message}\nhint:  ${err.hint}\n`);
    return 1;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`error: ${err.message}\nhint:  fix the variables above and retry.\n`);
    return 1;
  }
  if (err instanceof ZodError) {
    const lines = err.issues.map((i) => `  ${i.path.join('.') || '(input)'}: ${i.message}`);
    process.stderr.write(`error: invalid input\n${lines.join('\n')}\n`);
    return 2;
  }
  process.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
  return 1;
}
