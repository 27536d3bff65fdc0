/**
 * API-call records go to the log in batches: the calls of a few milliseconds in one event, `data`
 * `{ calls: [...] }` (`api.calls.served` from the gateway, `api.calls.recorded` from the daemon): one
 * LMDB put, one flush and one NATS message for the lot, where one event per call cost a busy gateway
 * about a fifth of its CPU per call and the daemon about a twelfth of its CPU per device upgrade
 * (bench/README.md). Readers see one event per call, of the type older logs hold (`api.call.served`,
 * `api.call.recorded`), through `oneEventPerCall`.
 */

/** The calls the gateway served within one batch, in one event. */
export const API_CALLS_SERVED = 'api.calls.served';
/** One call the gateway served: what gateways before batches wrote, and what readers see each batch as. */
export const API_CALL_SERVED = 'api.call.served';

/** An event that records served calls, either form (a batch, or one call as older logs and readers have it). */
export function isServedCalls(e: { type: string }): boolean {
  return e.type === API_CALLS_SERVED || e.type === API_CALL_SERVED;
}
/** The calls the daemon made within one batch, in one event. */
export const API_CALLS_RECORDED = 'api.calls.recorded';
/** One call the daemon made: what daemons before batches wrote, and what readers see each batch as. */
export const API_CALL_RECORDED = 'api.call.recorded';

/** Each batch event type, and the one-call type its calls are read as. */
const CALL_BATCH_TYPES: ReadonlyMap<string, string> = new Map([
  [API_CALLS_SERVED, API_CALL_SERVED],
  [API_CALLS_RECORDED, API_CALL_RECORDED],
]);

/** Whether an event of this type holds a batch of call records. */
export function isCallBatch(type: string): boolean {
  return CALL_BATCH_TYPES.has(type);
}

/** At most this many records wait for the next batch; one more appends them at once. */
export const MAX_RECORD_BATCH = 256;
/**
 * And at most about this many bytes of text (a record holds a command and an answer of a few thousand
 * characters each; 256 records of neither weigh as much). A batch is one event, stored as one value and
 * published on NATS as JSON (without the answers: busCopyOf). Kept under 128 KB, its text and bytes are
 * ordinary heap objects; a larger one is made in V8's large-object space, each in memory of its own, which
 * made turning a call's record into JSON bytes about three times dearer (4 → 12 µs; bench/README.md,
 * sixth pass).
 */
export const MAX_BATCH_TEXT = 100 * 1024;
/** How long a record waits for others to share its append. */
export const RECORD_BATCH_MS = 10;

/**
 * The log as one event per call: each batch becomes an event per call, with the batch's gseq, stream and
 * seq, the call's own time as `at` (when it has one), and the call as `data`. Everything else passes
 * unchanged, so readers see every call the same way, whichever process wrote it and whenever.
 */
export function oneEventPerCall<E extends { type: string; at: string; data: unknown }>(events: Iterable<E>): E[] {
  const out: E[] = [];
  for (const e of events) {
    const type = CALL_BATCH_TYPES.get(e.type);
    if (type === undefined) {
      out.push(e);
      continue;
    }
    const calls = (e.data as { calls?: unknown } | null)?.calls;
    if (!Array.isArray(calls)) continue;
    for (const call of calls) {
      const at = (call as { at?: unknown } | null)?.at;
      out.push({ ...e, type, at: typeof at === 'string' ? at : e.at, data: call });
    }
  }
  return out;
}

/**
 * What the bus carries of an event (`eventPublisher`'s `busCopy`): a batch of call records without the
 * text of each answer (`response`; `responseBytes`, where the record has it, still gives its size), and
 * every other event as it is. The event log keeps the whole record (`replay show`, `/mgmt/api-calls`,
 * the chaos and cluster checks read it there). The answers are most of a record's bytes: published,
 * a 10,000-device rehearsal would put some 2 GB of them through NATS, pushing every other event out of
 * PANOS_EVT (1 GiB), and the gateway spent about a tenth of its CPU per call turning them into JSON.
 */
export function busCopyOf<E extends { type: string; data?: unknown }>(e: E): E {
  if (!CALL_BATCH_TYPES.has(e.type)) return e;
  const data = e.data as { calls?: unknown } | null | undefined;
  if (!Array.isArray(data?.calls)) return e;
  // `response: undefined` is left out by JSON.stringify, and keeps each record's shape for V8.
  const calls = data.calls.map((c: unknown) => (c !== null && typeof c === 'object' && 'response' in c ? { ...c, response: undefined } : c));
  return { ...e, data: { ...data, calls } };
}

/**
 * Gathers records into batches (RECORD_BATCH_MS, MAX_RECORD_BATCH, MAX_BATCH_TEXT) and hands each to
 * `append`; never makes the caller wait. `close` appends what waits and waits for every append, so a
 * graceful stop loses nothing. A failed append is handed to `failed` (the caller logs it).
 */
export class CallBatcher<R> {
  private readonly pending = new Set<Promise<unknown>>();
  private batch: R[] = [];
  private batchText = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: {
      append(calls: R[]): Promise<unknown>;
      /** About how many bytes of JSON the record makes. */
      weigh(call: R): number;
      failed(err: unknown, calls: readonly R[]): void;
    },
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  add(call: R): void {
    this.batch.push(call);
    this.batchText += this.options.weigh(call);
    if (this.batch.length >= MAX_RECORD_BATCH || this.batchText >= MAX_BATCH_TEXT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), RECORD_BATCH_MS);
  }

  /** Append the records waiting for their batch (nothing when none). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const calls = this.batch;
    if (calls.length === 0) return;
    this.batch = [];
    this.batchText = 0;
    try {
      const p = this.options.append(calls).then(
        () => undefined,
        (err: unknown) => this.options.failed(err, calls),
      );
      this.track(p);
    } catch (err) {
      // A closed store throws synchronously.
      this.options.failed(err, calls);
    }
  }

  /** Another append of the same owner that `close` waits for. */
  track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** Append the records waiting for their batch now, and resolve once every record made so far is appended. */
  async written(): Promise<void> {
    this.flush();
    await Promise.all([...this.pending]);
  }

  /** Take no more records; append what waits and wait for the appends in flight. */
  async close(): Promise<void> {
    if (!this.closed) this.flush();
    this.closed = true;
    await Promise.all([...this.pending]);
  }
}
