/** An error with the HTTP status to answer, what went wrong and (optionally) what to do next. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}
