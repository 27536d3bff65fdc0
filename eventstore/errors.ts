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
  ) {
    super('CONCURRENCY', `${stream}: expected seq ${expected}, found ${actual}`);
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
