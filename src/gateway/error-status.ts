import type { ErrorCode } from '../errors.js';

/** The HTTP status for each error code; one table so every route answers the same error the same way. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_input: 400,
  not_found: 404,
  unknown_model: 404,
  conflict: 409,
  illegal_transition: 400,
  no_champion: 400,
  refused: 409,
  configuration: 503,
  artifact: 409,
};
