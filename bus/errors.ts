/** Base of the bus's errors; `code` is stable and goes into `{ error: { code } }` replies. */
export class BusError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A subject token that would break the subject grammar (`.`, `*`, `>`, whitespace, empty). */
export class InvalidTokenError extends BusError {
  constructor(readonly token: string) {
    super('INVALID_TOKEN', `not a valid subject token: ${JSON.stringify(token.slice(0, 80))}`);
  }
}

/** Nobody answers on a subject (no daemon, no simulator owning that device). */
export class NoResponderError extends BusError {
  constructor(readonly subject: string, options?: ErrorOptions) {
    super('NO_RESPONDER', `nothing is answering on ${subject}`, options);
  }
}

/** A request got no reply in time. */
export class RequestTimeoutError extends BusError {
  constructor(readonly subject: string, readonly timeoutMs: number, options?: ErrorOptions) {
    super('TIMEOUT', `no reply on ${subject} within ${timeoutMs} ms`, options);
  }
}

/** The responder answered `{ error }`; `details` keeps the rest of the error object. */
export class RemoteError extends BusError {
  constructor(
    code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(code, message);
  }
}
