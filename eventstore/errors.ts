/** Base of the event store's errors; `code` is stable and safe to show to users. */
export class EventStoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An append's `expectedSeq` did not match the stream's head. Nothing was written. */
export class ConcurrencyError extends EventStoreError {
  constructor(
    readonly stream: string,
    readonly expected: number,
    readonly actual: number,
    message?: string,
  ) {
    super('CONCURRENCY', message ?? `${stream}: expected seq ${expected}, found ${actual}`);
  }
}

/**
 * The replicated log refused an append because another writer appended to the same stream first
 * (JetStream's expected last subject sequence did not match). Nothing was appended; this writer's
 * projection is behind the log for that stream, or it is no longer the stream's owner.
 */
export class LogConflictError extends ConcurrencyError {
  constructor(stream: string, expected: number) {
    super(stream, expected, -1, `${stream}: another writer appended to the replicated log after seq ${expected}; nothing was appended`);
  }
}

/** The replicated log did not acknowledge an append in time (no quorum, no server). The append may or may not be in the log. */
export class LogUnavailableError extends EventStoreError {
  constructor(stream: string, waitedMs: number, options?: ErrorOptions) {
    super('LOG_UNAVAILABLE', `${stream}: the replicated log did not acknowledge the append within ${Math.round(waitedMs / 1000)} s`, options);
  }
}

/** The projection did not catch up with the replicated log in time (its reader gets nothing from the log). */
export class LogCatchUpError extends EventStoreError {
  constructor(position: number, last: number, waitedMs: number) {
    super('LOG_CATCH_UP', `the local projection stands at entry ${position} of ${last} after ${Math.round(waitedMs / 1000)} s: the replicated log is not delivering`);
  }
}

/** The LMDB projection does not belong to the replicated log it is attached to (another log, or ahead of it). */
export class ProjectionMismatchError extends EventStoreError {
  constructor(message: string) {
    super('PROJECTION_MISMATCH', message);
  }
}

/** An append was refused before anything was published: this writer may not write the stream (e.g. its lease is lost). */
export class FencedError extends EventStoreError {
  constructor(
    readonly stream: string,
    reason: string,
  ) {
    super('FENCED', `${stream}: ${reason}; nothing was appended`);
  }
}

/** A stream name or event that cannot be stored (bad characters, non-JSON data). */
export class InvalidEventError extends EventStoreError {
  constructor(message: string) {
    super('INVALID_EVENT', message);
  }
}

/** The store was used after `close()`. */
export class StoreClosedError extends EventStoreError {
  constructor() {
    super('STORE_CLOSED', 'event store is closed');
  }
}
