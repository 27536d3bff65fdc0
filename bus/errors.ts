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

/** The NATS server refused this user a publish or a subscription (its permissions do not allow the subject). */
export class NatsPermissionError extends BusError {
  constructor(readonly operation: 'publish' | 'subscribe', readonly subject: string, options?: ErrorOptions) {
    super('NATS_PERMISSION', `the NATS user this connection signed in as may not ${operation === 'publish' ? 'send on' : 'subscribe to'} ${subject}`, options);
  }
}

/** A NATS URL that cannot be used as given (it carries credentials): a usage error, the CLI exits 2. */
export class NatsUrlError extends BusError {
  constructor(message: string) {
    super('NATS_URL', message);
  }
}

/** The NATS server refused the connection's credentials (none given, unknown user, wrong secret). */
export class NatsAuthorizationError extends BusError {
  constructor(readonly url: string, options?: ErrorOptions) {
    super('NATS_AUTHORIZATION', `the NATS server at ${url} refused the connection's credentials (authorization violation)`, options);
  }
}

/** Whether a nats.js error is the server refusing the credentials. */
export function isAuthorizationFailure(err: unknown): boolean {
  const e = err as { name?: string; message?: string; cause?: unknown } | undefined;
  if (!e) return false;
  if (e.name === 'AuthorizationError' || /authorization violation|authentication/i.test(e.message ?? '')) return true;
  return e.cause !== undefined && e.cause !== err && isAuthorizationFailure(e.cause);
}
