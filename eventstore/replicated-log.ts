import { randomBytes } from 'node:crypto';
import { ConcurrencyError, LogCatchUpError, LogConflictError, LogUnavailableError, ProjectionMismatchError, StoreClosedError } from './errors.ts';
import type { LmdbEventStore } from './lmdb-event-store.ts';
import type { AppendOptions, EventEnvelope, LogEntry, LogWriter, PositionedEntry, PreparedEvent } from './types.ts';

/** What a publish of one entry came to. */
export type LogPublishResult =
  | { ok: true; logSeq: number; duplicate: boolean }
  /** Another entry of the stream is at the log's head: nothing was stored. */
  | { ok: false; conflict: true }
  /** No acknowledgement (timeout, no quorum, no responders): the entry may or may not be stored; retry with the same id. */
  | { ok: false; conflict: false; error: unknown };

/**
 * The replicated log as the projection needs it; bus/log-stream.ts implements it on a JetStream stream.
 * Entries are opaque bytes here; the log orders them, one subject per event stream.
 */
export interface LogTransport {
  /** A name of the log that changes when it is recreated (e.g. `PANOS_LOG@<created>`). */
  origin(): Promise<string>;
  /** The log's last sequence now (0 when empty). */
  lastSeq(): Promise<number>;
  /**
   * Store one entry of `stream` unless the stream's last entry in the log is not `expectedLastLogSeq`
   * (0: the stream has none). `msgId` deduplicates a retry of the same attempt.
   */
  publish(stream: string, data: Uint8Array, options: { expectedLastLogSeq: number; msgId: string; timeoutMs: number }): Promise<LogPublishResult>;
  /** Every entry from `fromSeq` on, in order, live, until `signal` aborts. */
  read(fromSeq: number, signal: AbortSignal): AsyncIterable<{ logSeq: number; data: Uint8Array }>;
}

export interface ReplicatedLogOptions {
  /** This writer's name, recorded on every entry (the daemon's node id). */
  writer?: string;
  /**
   * Called before every append is published: resolve with the lease epoch to record, or throw (e.g. FencedError)
   * to refuse the append before anything is sent. Set later with `setFence`.
   */
  fence?: (stream: string) => number | undefined | Promise<number | undefined>;
  /** How long an append keeps retrying an unacknowledged publish before LogUnavailableError. */
  appendTimeoutMs?: number;
  /** One publish attempt's wait for its acknowledgement. */
  publishTimeoutMs?: number;
  /** Told when the background reader fails; it is opened again from the projection's position. */
  onError?: (err: unknown) => void;
  /**
   * Streams that several daemons append to without owning them (default: kinds in SHARED_STREAM_KINDS): an
   * append there without `expectedSeq` that loses a race waits for the projection to catch up and goes again,
   * instead of failing. Streams with an owner (jobs, pairs, campaigns) never retry: the loser is fenced.
   */
  shared?: (stream: string) => boolean;
  /**
   * While opening catches up: how long the projection may stand still before the reader is opened again (a
   * consumer that went quiet with its NATS node delivers nothing and reports nothing). After
   * OPEN_STALLS_ALLOWED such waits in a row with no progress, opening gives up with LogCatchUpError rather
   * than waiting for ever. A long catch-up that keeps moving is never cut short. Default 15 s.
   */
  stallMs?: number;
}

/** Reopenings of a reader that stands still, while opening, before giving up. */
const OPEN_STALLS_ALLOWED = 3;

/** Stream kinds every daemon appends to (API call records, device facts from discovery): a lost race is retried. */
export const SHARED_STREAM_KINDS: readonly string[] = ['api', 'device'];

function isSharedStream(stream: string): boolean {
  const colon = stream.indexOf(':');
  return SHARED_STREAM_KINDS.includes(colon < 0 ? stream : stream.slice(0, colon));
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes of an entry (pure). */
export function encodeEntry(entry: LogEntry): Uint8Array {
  return encoder.encode(JSON.stringify(entry));
}

/** An entry from its bytes (pure); throws ProjectionMismatchError on anything that is not one. */
export function decodeEntry(data: Uint8Array, logSeq: number): LogEntry {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new ProjectionMismatchError(`log entry ${logSeq} is not JSON: ${(err as Error).message}`);
  }
  const e = value as Partial<LogEntry> | null;
  if (!e || e.v !== 1 || typeof e.id !== 'string' || typeof e.stream !== 'string' || !Number.isInteger(e.seq) || !Array.isArray(e.events)) {
    throw new ProjectionMismatchError(`log entry ${logSeq} is not a panos-upgrade log entry (format v1)`);
  }
  return e as LogEntry;
}

interface QueuedAppend {
  events: PreparedEvent[];
  options: AppendOptions;
  resolve: (events: EventEnvelope[]) => void;
  reject: (err: unknown) => void;
}

/** The most events one group-committed entry carries. */
const MAX_GROUP_EVENTS = 256;

/** Whether `next` may go in the same entry as the group ending with `prev` (pure). */
function canJoin(prev: QueuedAppend, next: QueuedAppend): boolean {
  return prev.options.snapshot === undefined && next.options.expectedSeq === undefined && next.options.epoch === prev.options.epoch;
}

interface Pending {
  entry: LogEntry;
  own: boolean;
}

/**
 * The event log replicated on a JetStream stream, with the LMDB store as its local projection.
 *
 * @remarks
 * Every `store.append` becomes one log entry (all its events and its snapshot, atomically), published with
 * the log sequence of the stream's last entry as the expected last subject sequence: a writer that is not at
 * the stream's head (another daemon wrote to it first) gets LogConflictError (a ConcurrencyError) and nothing
 * is appended. An append resolves only after the log acknowledged the entry (stored on a quorum of replicas)
 * and the projection applied it, so the intent of a mutating call is replicated before the call is sent.
 *
 * Conflicts are also settled in log order: an entry whose `seq` no longer continues its stream when the
 * projection reaches it is void everywhere (see `LmdbEventStore.applyEntries`), and its writer gets
 * LogConflictError; this holds even where the server let two racing publishes through.
 *
 * The projection applies entries strictly in log order and idempotently (by log sequence): its own as they
 * are acknowledged, everyone else's from a reader that follows the log from the projection's position. A data
 * dir that is empty or behind catches up from the log when the log is opened (`ReplicatedLog.open`).
 *
 * @example
 * ```ts
 * const log = await ReplicatedLog.open(store, jetStreamLogTransport(nc, subjects), { writer: 'daemon-a' });
 * await store.append('job:42', [{ type: 'job.submitted', data }]); // replicated, then projected
 * ```
 */
export class ReplicatedLog implements LogWriter {
  private next: number;
  private readonly pending = new Map<number, Pending>();
  private readonly applyWaiters = new Map<number, Array<{ resolve: (e: EventEnvelope[]) => void; reject: (err: unknown) => void }>>();
  private readonly ownIds = new Set<string>();
  /** Own entries (ids in ownIds) the projection applied, with their log positions, while their append runs. */
  private readonly ownApplied = new Map<string, number>();
  private readonly queues = new Map<string, QueuedAppend[]>();
  private readonly positionWaiters = new Set<{ target: number; resolve: () => void; reject: (err: unknown) => void }>();
  private applying: Promise<void> = Promise.resolve();
  private readonly reader = new AbortController();
  private readerDone: Promise<void> = Promise.resolve();
  private currentRead: AbortController | undefined;
  private failure: unknown;
  private fence: ReplicatedLogOptions['fence'];
  private closed = false;
  private readonly appendTimeoutMs: number;
  private readonly publishTimeoutMs: number;

  private constructor(
    private readonly store: LmdbEventStore,
    private readonly transport: LogTransport,
    private readonly options: ReplicatedLogOptions,
  ) {
    this.next = store.projectionPosition().logSeq + 1;
    this.fence = options.fence;
    this.appendTimeoutMs = options.appendTimeoutMs ?? 60_000;
    this.publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  }

  /**
   * Attach `store` to the replicated log: check that the store is a projection of this log (or empty), catch
   * up with every entry written so far (rebuilding an empty data dir), keep following the log in the
   * background, and route the store's appends through the log.
   */
  static async open(store: LmdbEventStore, transport: LogTransport, options: ReplicatedLogOptions = {}): Promise<ReplicatedLog> {
    const origin = await transport.origin();
    const position = store.projectionPosition();
    if (position.origin === undefined) {
      if (store.lastGseq() > 0) {
        throw new ProjectionMismatchError(
          `the event log in ${store.path} was written without the replicated log (a single-server daemon); ` +
            `a daemon on the cluster starts from an empty data dir (or one it used on this cluster), and rebuilds its log from ${origin}`,
        );
      }
      await store.setProjectionOrigin(origin);
    } else if (position.origin !== origin) {
      throw new ProjectionMismatchError(
        `the event log in ${store.path} is a projection of ${position.origin}, not of ${origin} (the log was recreated?); ` +
          `move its events/ directory away to rebuild it from ${origin}`,
      );
    }
    const last = await transport.lastSeq();
    if (position.logSeq > last) {
      throw new ProjectionMismatchError(`the event log in ${store.path} has applied ${position.logSeq} entries, but ${origin} holds only ${last}: the log lost entries`);
    }
    const log = new ReplicatedLog(store, transport, options);
    log.follow();
    try {
      await log.reachWhileMoving(last, options.stallMs ?? 15_000);
    } catch (err) {
      await log.close();
      throw err;
    }
    store.useWriter(log);
    return log;
  }

  /** Set (or clear) the check run before every append (the lease: docs/cluster.md). */
  setFence(fence: ReplicatedLogOptions['fence']): void {
    this.fence = fence;
  }

  /** The last log sequence applied to the projection. */
  get position(): number {
    return this.next - 1;
  }

  /**
   * Resolve once the projection has applied every entry the log held when this was called. With `timeoutMs`,
   * a projection still behind after half of it has its reader opened again (a consumer that went quiet when
   * its NATS node stopped delivers nothing and reports nothing), and one still behind at the end rejects with
   * a LogCatchUpError, so that the caller can give its work back instead of waiting for ever.
   */
  async catchUp(options: { timeoutMs?: number } = {}): Promise<number> {
    const last = await this.transport.lastSeq();
    if (options.timeoutMs === undefined) {
      await this.waitForPosition(last);
      return last;
    }
    const started = Date.now();
    const half = options.timeoutMs / 2;
    if (await this.waitForPosition(last, half)) return last;
    this.restartReader();
    if (await this.waitForPosition(last, options.timeoutMs - half)) return last;
    throw new LogCatchUpError(this.position, last, Date.now() - started);
  }

  /**
   * Resolve once the projection has applied the log up to `logSeq`, for as long as it keeps moving: a
   * projection that stands still for `stallMs` has its reader opened again, and after OPEN_STALLS_ALLOWED
   * such stalls in a row this rejects with a LogCatchUpError.
   */
  private async reachWhileMoving(logSeq: number, stallMs: number): Promise<void> {
    const started = Date.now();
    let stalls = 0;
    let seen = this.position;
    while (!(await this.waitForPosition(logSeq, stallMs))) {
      if (this.position > seen) {
        seen = this.position;
        stalls = 0;
        continue;
      }
      if (++stalls >= OPEN_STALLS_ALLOWED) throw new LogCatchUpError(this.position, logSeq, Date.now() - started);
      this.restartReader();
    }
  }

  /** Resolve once the projection has applied the log up to `logSeq`; with `timeoutMs`, resolve false if it has not by then. */
  waitForPosition(logSeq: number): Promise<void>;
  waitForPosition(logSeq: number, timeoutMs: number): Promise<boolean>;
  waitForPosition(logSeq: number, timeoutMs?: number): Promise<void | boolean> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.next > logSeq) return Promise.resolve(timeoutMs === undefined ? undefined : true);
    return new Promise((resolve, reject) => {
      const waiter = { target: logSeq, resolve: () => (clearTimeout(timer), resolve(timeoutMs === undefined ? undefined : true)), reject: (err: unknown) => (clearTimeout(timer), reject(err)) };
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.positionWaiters.delete(waiter);
              resolve(false);
            }, timeoutMs);
      this.positionWaiters.add(waiter);
    });
  }

  /**
   * Append through the log (called by `store.append`). Appends to one stream are serialized within this
   * process; those that queue up while one is in flight go together as one entry (group commit), each
   * caller getting its own events back. An append with `expectedSeq` starts a group, one with a snapshot
   * ends it, and only appends under the same epoch share one.
   */
  append(stream: string, events: PreparedEvent[], options: AppendOptions): Promise<EventEnvelope[]> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(stream);
      const item: QueuedAppend = { events, options, resolve, reject };
      if (queue) {
        queue.push(item);
        return;
      }
      this.queues.set(stream, [item]);
      void this.runQueue(stream);
    });
  }

  private async runQueue(stream: string): Promise<void> {
    const queue = this.queues.get(stream)!;
    while (queue.length > 0) {
      const group = [queue.shift()!];
      let count = group[0]!.events.length;
      while (queue.length > 0 && count < MAX_GROUP_EVENTS && canJoin(group.at(-1)!, queue[0]!)) {
        const next = queue.shift()!;
        count += next.events.length;
        group.push(next);
      }
      const first = group[0]!;
      const last = group.at(-1)!;
      const options: AppendOptions = {};
      if (first.options.expectedSeq !== undefined) options.expectedSeq = first.options.expectedSeq;
      if (last.options.snapshot !== undefined) options.snapshot = last.options.snapshot;
      if (first.options.epoch !== undefined) options.epoch = first.options.epoch;
      try {
        const stored = group.length === 1 ? await this.appendNow(stream, first.events, options) : await this.appendNow(stream, group.flatMap((g) => g.events), options);
        let at = 0;
        for (const g of group) {
          g.resolve(stored.slice(at, at + g.events.length));
          at += g.events.length;
        }
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    }
    this.queues.delete(stream);
  }

  /** Stop following the log and give the store back its local appends. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reader.abort();
    await this.readerDone;
    this.fail(new StoreClosedError());
    if (!this.store.isClosed) this.store.useWriter(undefined);
  }

  private async appendNow(stream: string, events: PreparedEvent[], options: AppendOptions): Promise<EventEnvelope[]> {
    const shared = options.expectedSeq === undefined && (this.options.shared ?? isSharedStream)(stream);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.appendOnce(stream, events, options);
      } catch (err) {
        if (!shared || !(err instanceof LogConflictError) || attempt >= 20) throw err;
        // Another daemon appended to this shared stream first: follow the log up to it, then go again
        // (within the append's own time, never for ever).
        await this.catchUp({ timeoutMs: this.appendTimeoutMs });
      }
    }
  }

  private async appendOnce(stream: string, events: PreparedEvent[], options: AppendOptions): Promise<EventEnvelope[]> {
    if (this.closed) throw new StoreClosedError();
    if (this.failure) throw this.failure;
    const epoch = options.epoch ?? (this.fence ? await this.fence(stream) : undefined);
    const head = this.store.streamHead(stream);
    if (options.expectedSeq !== undefined && options.expectedSeq !== head) throw new ConcurrencyError(stream, options.expectedSeq, head);
    const entry: LogEntry = { v: 1, id: `${stream}:${head + 1}:${randomBytes(6).toString('hex')}`, stream, seq: head + 1, events };
    if (options.snapshot !== undefined) entry.snapshot = options.snapshot;
    if (epoch !== undefined) entry.epoch = epoch;
    if (this.options.writer !== undefined) entry.writer = this.options.writer;
    const data = encodeEntry(entry);
    const expectedLastLogSeq = this.store.streamLogSeq(stream);
    const started = Date.now();
    this.ownIds.add(entry.id);
    try {
      for (let attempt = 0; ; attempt++) {
        const res = await this.transport.publish(stream, data, { expectedLastLogSeq, msgId: entry.id, timeoutMs: this.publishTimeoutMs });
        if (res.ok) return await this.offer(res.logSeq, entry, true);
        if (res.conflict) {
          // An earlier try whose answer was lost (its NATS node died) may have landed: the log then holds
          // this very entry, and a new stream leader answers the retry with a conflict, not as a duplicate.
          if (attempt > 0) {
            await this.catchUp({ timeoutMs: this.appendTimeoutMs });
            const landed = this.ownApplied.get(entry.id);
            if (landed !== undefined) return await this.offer(landed, entry, true);
          }
          throw new LogConflictError(stream, head);
        }
        if (this.closed) throw new StoreClosedError();
        if (Date.now() - started >= this.appendTimeoutMs) throw new LogUnavailableError(stream, Date.now() - started, { cause: res.error });
        await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** attempt)));
      }
    } finally {
      // An entry applied by the reader before the acknowledgement came is still ours: offer() has read the id by then.
      this.ownIds.delete(entry.id);
      this.ownApplied.delete(entry.id);
    }
  }

  /** Hand an entry to the projection at its log position; resolves with its envelopes once applied. */
  private offer(logSeq: number, entry: LogEntry, own: boolean): Promise<EventEnvelope[]> {
    if (logSeq < this.next) {
      // Already applied (the reader was first): read what it stored.
      if (this.store.isVoidEntry(logSeq)) return Promise.reject(new LogConflictError(entry.stream, entry.seq - 1));
      const last = entry.seq + entry.events.length - 1;
      return Promise.resolve(entry.events.length === 0 ? [] : this.store.readStream(entry.stream, { fromSeq: entry.seq, toSeq: last }));
    }
    const promise = new Promise<EventEnvelope[]>((resolve, reject) => {
      const list = this.applyWaiters.get(logSeq) ?? [];
      list.push({ resolve, reject });
      this.applyWaiters.set(logSeq, list);
    });
    if (!this.pending.has(logSeq)) this.pending.set(logSeq, { entry, own: own || this.ownIds.has(entry.id) });
    else if (own) this.pending.get(logSeq)!.own = true;
    this.drain();
    return promise;
  }

  private drain(): void {
    this.applying = this.applying.then(async () => {
      while (!this.failure && this.pending.has(this.next)) {
        const batch: PositionedEntry[] = [];
        for (let s = this.next; this.pending.has(s) && batch.length < 256; s++) {
          const p = this.pending.get(s)!;
          batch.push({ logSeq: s, entry: p.entry, own: p.own || this.ownIds.has(p.entry.id) });
        }
        let results: Array<EventEnvelope[] | null>;
        try {
          results = await this.store.applyEntries(batch);
        } catch (err) {
          this.fail(err);
          return;
        }
        batch.forEach((p, i) => {
          this.pending.delete(p.logSeq);
          if (results[i] !== null && this.ownIds.has(p.entry.id)) this.ownApplied.set(p.entry.id, p.logSeq);
          const waiters = this.applyWaiters.get(p.logSeq) ?? [];
          this.applyWaiters.delete(p.logSeq);
          const r = results[i];
          for (const w of waiters) {
            if (r === null) w.reject(new LogConflictError(p.entry.stream, p.entry.seq - 1));
            else w.resolve(r ?? []);
          }
        });
        this.next += batch.length;
        for (const w of [...this.positionWaiters]) {
          if (this.next > w.target) {
            this.positionWaiters.delete(w);
            w.resolve();
          }
        }
      }
    });
  }

  /**
   * Follow the log from the projection's position for as long as this log is open. A reader that ends or
   * fails while the log is open (its consumer lost with a NATS node, a reconnection to another node) is
   * opened again from where the projection stands, after a short pause; each failure is reported.
   */
  private follow(): void {
    const signal = this.reader.signal;
    this.readerDone = (async () => {
      let pause = 100;
      while (!signal.aborted) {
        // One read at a time, which restartReader() ends (and the log's close, through `signal`).
        const current = new AbortController();
        const stop = (): void => current.abort();
        signal.addEventListener('abort', stop, { once: true });
        this.currentRead = current;
        try {
          for await (const m of this.transport.read(this.next, current.signal)) {
            if (current.signal.aborted) break;
            pause = 100;
            if (m.logSeq < this.next || this.pending.has(m.logSeq)) continue;
            void this.offer(m.logSeq, decodeEntry(m.data, m.logSeq), false).catch(() => undefined);
          }
        } catch (err) {
          if (signal.aborted) break;
          if (!current.signal.aborted) this.options.onError?.(err);
        } finally {
          signal.removeEventListener('abort', stop);
        }
        if (signal.aborted) break;
        if (current.signal.aborted) {
          // Restarted on purpose: open the next read at once.
          pause = 100;
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pause);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        pause = Math.min(pause * 2, 2_000);
      }
    })();
  }

  /** End the current read; the follower opens a new one from the projection's position. */
  private restartReader(): void {
    this.currentRead?.abort();
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err;
    for (const [, waiters] of this.applyWaiters) for (const w of waiters) w.reject(err);
    this.applyWaiters.clear();
    for (const w of this.positionWaiters) w.reject(err);
    this.positionWaiters.clear();
  }
}
