import { open, type Database, type RootDatabase } from 'lmdb';
import { ConcurrencyError, InvalidEventError, ProjectionMismatchError, StoreClosedError } from './errors.ts';
import type { AppendOptions, EventEnvelope, Fold, LogWriter, NewEvent, PositionedEntry, PreparedEvent, StoredSnapshot } from './types.ts';

export interface EventStoreOptions {
  /** Directory of the LMDB environment; created when missing. */
  path: string;
  /** Stamped on every event that does not carry its own. */
  runId?: string;
  /** Milliseconds since the epoch; the source of `at`. */
  now?: () => number;
  /** How often a live tail looks for events written by other processes. */
  pollMs?: number;
  /** Upper bound of the memory map; LMDB grows the file up to it. */
  mapSize?: number;
  /** Told about an onAppend listener that threw; the append itself has succeeded. Default: a process warning. */
  onListenerError?: (err: unknown) => void;
  /**
   * How long an append waits for others to share its commit (group commit), in ms; 0 shares it only with
   * the appends of the same event turn. Default GROUP_COMMIT_MS.
   */
  groupCommitMs?: number;
}

/**
 * The default group-commit window. A commit and its flush cost about 0.4 ms of CPU whatever they carry,
 * and a fleet's jobs append one fact at a time, a few hundred a second, seldom in the same event turn:
 * waiting a moment lets one commit carry the facts of many jobs. Each append is that much later durable.
 */
export const GROUP_COMMIT_MS = 2;

interface QueuedAppend {
  stream: string;
  events: readonly NewEvent[];
  options: AppendOptions;
  at: string;
  resolve: (stored: EventEnvelope[]) => void;
  reject: (err: unknown) => void;
}

export type AppendListener = (events: readonly EventEnvelope[]) => void;

type StreamKey = [string, number];

/** Where the projection of a replicated log stands: which log, and the last entry applied. */
export interface ProjectionPosition {
  /** The last log sequence applied, 0 before the first. */
  logSeq: number;
  /** The log this projection belongs to (e.g. `PANOS_LOG@<created>`), once attached. */
  origin?: string;
}

type ProjectionKey = 'position' | ['stream', string] | ['void', number];

const MAX_SEQ = Number.MAX_SAFE_INTEGER;
const MAX_STREAM_LENGTH = 400;
/** Bound of the stream-head cache (a fleet has a stream per job and per device); full, it starts again. */
const MAX_CACHED_HEADS = 10_000;

/**
 * The LMDB event log of DESIGN.md.
 *
 * @remarks
 * Layout (one environment, always opened with the same options):
 * - `log`: key `gseq` → envelope. Reading everything after a position is one ordered range scan.
 * - `streams`: key `[stream, seq]` → `gseq`. Reading one stream is one ordered range scan.
 * - `snapshots`: key `stream` → `{ seq, gseq, state }`, written in the same transaction as the events it follows.
 * - `projection` (cluster mode, docs/cluster.md): `position` → `{ logSeq, origin }`, the last entry of the
 *   replicated log applied here; `['stream', name]` → the log sequence of that stream's last entry.
 *
 * With a replicated log attached (`useWriter`), `append` hands prepared events to it; the log publishes
 * them and calls `applyEntries` once they are acknowledged, in log order, so this store is the local
 * projection of the log: same folds, same reads.
 *
 * Appends run as asynchronous lmdb transactions: every append queued within `groupCommitMs` (2 ms by
 * default) shares one commit and one flush (group commit). Each callback reads the heads inside the
 * write transaction, so `seq` and `gseq` stay correct with many appenders and with several processes on
 * one file.
 * An append resolves only after its commit is flushed to disk; listeners run after that, so anything
 * they publish is already durable.
 */
export class LmdbEventStore {
  readonly path: string;
  readonly runId: string | undefined;
  private readonly env: RootDatabase;
  private readonly log: Database<EventEnvelope, number>;
  private readonly streams: Database<number, StreamKey>;
  private readonly snapshots: Database<StoredSnapshot, string>;
  private readonly projection: Database<unknown, ProjectionKey>;
  private writer: LogWriter | undefined;
  private readonly now: () => number;
  private readonly pollMs: number;
  private readonly listeners = new Set<AppendListener>();
  private readonly waiters = new Set<() => void>();
  private readonly onListenerError: (err: unknown) => void;
  private closed = false;
  /**
   * Stream heads as this process last wrote or read them in a write transaction, valid while the log
   * ends at `headsAtGseq`: an append by another process, or a replicated entry applied here, moves the
   * end of the log and the cache is dropped. Saves a reverse range read per append.
   */
  private readonly heads = new Map<string, number>();
  private headsAtGseq = -1;
  /** See lastGseqInTxn. */
  private knownLastGseq = -1;

  private readonly groupCommitMs: number;
  /** Appends waiting for the group commit's window to close (see GROUP_COMMIT_MS). */
  private queued: QueuedAppend[] = [];
  private commitTimer: NodeJS.Timeout | undefined;

  private constructor(options: EventStoreOptions) {
    this.path = options.path;
    this.groupCommitMs = Math.max(0, options.groupCommitMs ?? GROUP_COMMIT_MS);
    this.runId = options.runId;
    this.now = options.now ?? Date.now;
    this.pollMs = options.pollMs ?? 200;
    this.onListenerError = options.onListenerError ?? warnListenerError;
    this.env = open({
      path: options.path,
      // lmdb-js treats a path with an extension (`events.lmdb`) as a file unless told otherwise.
      noSubdir: false,
      compression: true,
      maxDbs: 8,
      ...(options.mapSize ? { mapSize: options.mapSize } : {}),
    });
    this.log = this.env.openDB<EventEnvelope, number>({ name: 'log' });
    this.streams = this.env.openDB<number, StreamKey>({ name: 'streams' });
    this.snapshots = this.env.openDB<StoredSnapshot, string>({ name: 'snapshots' });
    this.projection = this.env.openDB<unknown, ProjectionKey>({ name: 'projection' });
  }

  static open(options: EventStoreOptions): LmdbEventStore {
    return new LmdbEventStore(options);
  }

  /**
   * Append events to one stream. Resolves with the stored envelopes once they are durable.
   * With `expectedSeq`, fails with ConcurrencyError (writing nothing) when the stream's head differs.
   */
  async append(stream: string, events: readonly NewEvent[], options: AppendOptions = {}): Promise<EventEnvelope[]> {
    this.assertOpen();
    validateStream(stream);
    if (events.length === 0 && options.snapshot === undefined) return [];
    for (const e of events) validateEvent(e);
    const at = new Date(this.now()).toISOString();
    if (this.writer) {
      const prepared: PreparedEvent[] = events.map((e) => {
        const p: PreparedEvent = { type: e.type, data: e.data, at: e.at ?? at };
        const runId = e.runId ?? this.runId;
        if (runId !== undefined) p.runId = runId;
        if (e.causationId !== undefined) p.causationId = e.causationId;
        return p;
      });
      return this.writer.append(stream, prepared, options);
    }
    if (this.groupCommitMs > 0) {
      return new Promise<EventEnvelope[]>((resolve, reject) => {
        this.queued.push({ stream, events, options, at, resolve, reject });
        this.commitTimer ??= setTimeout(() => void this.commitQueued(), this.groupCommitMs);
      });
    }
    let stored: EventEnvelope[];
    try {
      stored = await this.env.transaction(() => this.appendInTxn(stream, events, options, at));
    } catch (err) {
      // A failed commit may have left heads in the cache that are not on disk.
      this.forgetHeads();
      throw err;
    }
    await this.env.flushed;
    if (stored.length > 0) this.notify(stored);
    return stored;
  }

  /**
   * The appends queued in the window, in their order, in one transaction: each is checked (expectedSeq)
   * before any put of its own, so one that fails writes nothing and the others go on. Each resolves once
   * the commit is flushed, and its listeners are told in order.
   */
  private async commitQueued(): Promise<void> {
    this.commitTimer = undefined;
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    let results: Array<{ stored: EventEnvelope[] } | { err: unknown }>;
    try {
      results = await this.env.transaction(() =>
        batch.map((a) => {
          try {
            return { stored: this.appendInTxn(a.stream, a.events, a.options, a.at) };
          } catch (err) {
            return { err };
          }
        }),
      );
      await this.env.flushed;
    } catch (err) {
      // A failed commit may have left heads in the cache that are not on disk.
      this.forgetHeads();
      for (const a of batch) a.reject(err);
      return;
    }
    batch.forEach((a, i) => {
      const r = results[i]!;
      if ('err' in r) {
        a.reject(r.err);
        return;
      }
      if (r.stored.length > 0) this.notify(r.stored);
      a.resolve(r.stored);
    });
  }

  /** One append inside the write transaction; the heads are read there, so several writers stay in order. */
  private appendInTxn(stream: string, events: readonly NewEvent[], options: AppendOptions, at: string): EventEnvelope[] {
    const last = this.lastGseqInTxn();
    const head = this.headInTxn(stream, last);
    // Checked before the first put: a throw after a put does not roll back an async transaction.
    if (options.expectedSeq !== undefined && options.expectedSeq !== head) {
      throw new ConcurrencyError(stream, options.expectedSeq, head);
    }
    let gseq = last;
    let seq = head;
    const out: EventEnvelope[] = [];
    for (const e of events) {
      gseq += 1;
      seq += 1;
      const envelope: EventEnvelope = { gseq, stream, seq, type: e.type, at: e.at ?? at, data: e.data };
      const runId = e.runId ?? this.runId;
      if (runId !== undefined) envelope.runId = runId;
      if (e.causationId !== undefined) envelope.causationId = e.causationId;
      if (options.epoch !== undefined) envelope.epoch = options.epoch;
      this.log.putSync(gseq, envelope);
      this.streams.putSync([stream, seq], gseq);
      out.push(envelope);
    }
    if (options.snapshot !== undefined) {
      this.snapshots.putSync(stream, { seq, gseq: out.at(-1)?.gseq ?? last, state: options.snapshot });
    }
    this.rememberHead(stream, seq, gseq);
    this.knownLastGseq = gseq;
    return out;
  }

  /**
   * Send every later `append` to a replicated log (cluster mode), or back to this store alone (`undefined`).
   * The writer publishes and then calls `applyEntries`.
   */
  useWriter(writer: LogWriter | undefined): void {
    this.assertOpen();
    this.writer = writer;
  }

  /** Whether appends go to a replicated log. */
  get replicated(): boolean {
    return this.writer !== undefined;
  }

  /**
   * Apply entries of the replicated log, in log order, in one transaction (committed when it resolves; the
   * log, not this file, is what makes them durable).
   * Idempotent: an entry at or below the projection's position is skipped (its result is `[]`). The next
   * entry must follow the position without a gap (otherwise ProjectionMismatchError and nothing is written).
   *
   * An entry that does not continue its stream (`seq` ≠ head + 1: another writer's entry came first in log
   * order) is void: none of its events is stored and its result is `null`. Every projection of the log
   * decides the same way, so the first writer in log order wins even where JetStream's expected last
   * subject sequence let two racing publishes through (nats-server before 2.9.21, issue #4320).
   *
   * Listeners hear about `own` entries only (the appends of this process, as without a replicated log);
   * live tails hear about all.
   */
  async applyEntries(entries: readonly PositionedEntry[]): Promise<Array<EventEnvelope[] | null>> {
    this.assertOpen();
    if (entries.length === 0) return [];
    const results = await this.env.transaction(() => {
      const position = this.projectionPositionInTxn();
      // Checked before the first put: a throw after a put does not roll back an async transaction.
      let expected = position.logSeq + 1;
      const heads = new Map<string, number>();
      const todo: Array<PositionedEntry & { valid: boolean }> = [];
      for (const p of entries) {
        if (p.logSeq < expected) continue;
        if (p.logSeq !== expected) throw new ProjectionMismatchError(`the replicated log skips from entry ${expected - 1} to ${p.logSeq}; the projection cannot follow it`);
        validateStream(p.entry.stream);
        // This process's own entries were validated by append; other writers' are checked here.
        if (!p.own) for (const e of p.entry.events) validateEvent(e);
        const head = heads.get(p.entry.stream) ?? this.streamHead(p.entry.stream);
        const valid = p.entry.seq === head + 1;
        if (valid) heads.set(p.entry.stream, head + p.entry.events.length);
        todo.push({ ...p, valid });
        expected += 1;
      }
      let gseq = this.lastGseqInTxn();
      const applied = new Map<number, EventEnvelope[] | null>();
      for (const { logSeq, entry, valid } of todo) {
        this.projection.putSync(['stream', entry.stream], logSeq);
        if (!valid) {
          this.projection.putSync(['void', logSeq], { stream: entry.stream, seq: entry.seq });
          applied.set(logSeq, null);
          continue;
        }
        let seq = entry.seq - 1;
        const out: EventEnvelope[] = [];
        for (const e of entry.events) {
          gseq += 1;
          seq += 1;
          const envelope: EventEnvelope = { gseq, stream: entry.stream, seq, type: e.type, at: e.at, data: e.data };
          if (e.runId !== undefined) envelope.runId = e.runId;
          if (e.causationId !== undefined) envelope.causationId = e.causationId;
          if (entry.epoch !== undefined) envelope.epoch = entry.epoch;
          this.log.putSync(gseq, envelope);
          this.streams.putSync([entry.stream, seq], gseq);
          out.push(envelope);
        }
        if (entry.snapshot !== undefined) {
          this.snapshots.putSync(entry.stream, { seq, gseq: out.at(-1)?.gseq ?? this.lastGseqInTxn(), state: entry.snapshot });
        }
        applied.set(logSeq, out);
      }
      if (todo.length > 0) this.projection.putSync('position', { ...position, logSeq: expected - 1 });
      return entries.map((p) => (applied.has(p.logSeq) ? applied.get(p.logSeq)! : []));
    });
    // Not waiting for the disk flush: the replicated log is the record (the entries are acknowledged by a
    // quorum already), and the position commits with the events, so a projection that loses its last
    // transactions in a crash applies them again from the log.
    const own = entries.flatMap((p, i) => (p.own ? (results[i] ?? []) : []));
    if (own.length > 0) this.notify(own);
    else if (results.some((r) => r !== null && r.length > 0)) for (const w of [...this.waiters]) w();
    return results;
  }

  /** Whether the replicated log's entry `logSeq` was void here (it lost a race for its stream's head). */
  isVoidEntry(logSeq: number): boolean {
    this.assertOpen();
    return this.projection.get(['void', logSeq]) !== undefined;
  }

  /** Where the projection of the replicated log stands (`{ logSeq: 0 }` before the first entry). */
  projectionPosition(): ProjectionPosition {
    this.assertOpen();
    this.env.resetReadTxn();
    return this.projectionPositionInTxn();
  }

  /** Mark which replicated log this projection belongs to; kept with the position. */
  async setProjectionOrigin(origin: string): Promise<void> {
    this.assertOpen();
    await this.env.transaction(() => {
      this.projection.putSync('position', { ...this.projectionPositionInTxn(), origin });
    });
    await this.env.flushed;
  }

  /** The log sequence of the last replicated entry of `stream` applied here, 0 when none. */
  streamLogSeq(stream: string): number {
    this.assertOpen();
    return (this.projection.get(['stream', stream]) as number | undefined) ?? 0;
  }

  /** The events of one stream in order, from `fromSeq` (default 1) up to and including `toSeq`. */
  readStream(stream: string, options: { fromSeq?: number; toSeq?: number } = {}): EventEnvelope[] {
    this.assertOpen();
    const out: EventEnvelope[] = [];
    const range = this.streams.getRange({
      start: [stream, options.fromSeq ?? 1],
      end: [stream, options.toSeq === undefined ? MAX_SEQ : options.toSeq + 1],
    });
    for (const { value: gseq } of range) {
      const e = this.log.get(gseq);
      if (e) out.push(e);
    }
    return out;
  }

  /** Every event with `gseq > after` (and `<= to` when given), in global order. Lazy. */
  *readAll(options: { after?: number; to?: number; limit?: number } = {}): Generator<EventEnvelope> {
    this.assertOpen();
    const range = this.log.getRange({
      start: (options.after ?? 0) + 1,
      ...(options.to !== undefined ? { end: options.to + 1 } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
    });
    for (const { value } of range) yield value;
  }

  /** The global position of the newest event, 0 when the log is empty. */
  lastGseq(): number {
    this.assertOpen();
    this.env.resetReadTxn();
    for (const key of this.log.getKeys({ reverse: true, limit: 1 })) return key as number;
    return 0;
  }

  /** The `seq` of the newest event of a stream, 0 when it has none. */
  streamHead(stream: string): number {
    this.assertOpen();
    for (const key of this.streams.getKeys({ start: [stream, MAX_SEQ], end: [stream, 0], reverse: true, limit: 1 })) {
      return (key as StreamKey)[1];
    }
    return 0;
  }

  /** The names of every stream that starts with `prefix` (e.g. `job:`), in key order. */
  *streamNames(prefix = ''): Generator<string> {
    this.assertOpen();
    let start: StreamKey = [prefix, 0];
    for (;;) {
      let found: string | undefined;
      for (const key of this.streams.getKeys({ start, limit: 1 })) found = (key as StreamKey)[0];
      if (found === undefined || !found.startsWith(prefix)) return;
      yield found;
      start = [found, MAX_SEQ];
    }
  }

  getSnapshot<State = unknown>(stream: string): StoredSnapshot<State> | undefined {
    this.assertOpen();
    return this.snapshots.get(stream) as StoredSnapshot<State> | undefined;
  }

  /** Fold one stream from the beginning. */
  fold<State>(stream: string, fold: Fold<State>): State {
    let state = fold.initialState();
    for (const e of this.readStream(stream)) state = fold.evolve(state, e);
    return state;
  }

  /** Called after every durable append of this process, in commit order. Returns an unsubscribe function. */
  onAppend(listener: AppendListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Every event after `after`, then every new one as it is written (by this process immediately,
   * by other processes within `pollMs`), until `signal` aborts or the store closes.
   */
  async *tail(after: number, signal?: AbortSignal): AsyncGenerator<EventEnvelope> {
    let position = after;
    while (!this.closed && !signal?.aborted) {
      this.env.resetReadTxn();
      let any = false;
      for (const e of this.readAll({ after: position })) {
        position = e.gseq;
        any = true;
        yield e;
        if (this.closed || signal?.aborted) return;
      }
      if (!any) await this.waitForAppend(signal);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.commitTimer !== undefined) {
      // What was appended before close is committed, as an append of the same turn would have been.
      clearTimeout(this.commitTimer);
      await this.commitQueued();
    }
    this.closed = true;
    for (const w of this.waiters) w();
    this.waiters.clear();
    await this.env.flushed;
    await this.env.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private waitForAppend(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private notify(events: readonly EventEnvelope[]): void {
    // The events are durable: a failing listener must not turn the append into a rejection.
    for (const listener of this.listeners) {
      try {
        listener(events);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    for (const w of [...this.waiters]) w();
  }

  private projectionPositionInTxn(): ProjectionPosition {
    const p = this.projection.get('position') as ProjectionPosition | undefined;
    return p ? { ...p } : { logSeq: 0 };
  }

  /**
   * The head of `stream` inside a write transaction whose log ends at `lastGseq`: from the cache when
   * nothing was appended since this process last wrote (the log still ends where it left it), else read.
   */
  private headInTxn(stream: string, lastGseq: number): number {
    if (lastGseq !== this.headsAtGseq) this.forgetHeads();
    const cached = this.heads.get(stream);
    if (cached !== undefined) return cached;
    const head = this.streamHead(stream);
    this.rememberHead(stream, head, lastGseq);
    return head;
  }

  private rememberHead(stream: string, seq: number, lastGseq: number): void {
    if (this.heads.size >= MAX_CACHED_HEADS) this.heads.clear();
    this.heads.set(stream, seq);
    this.headsAtGseq = lastGseq;
  }

  private forgetHeads(): void {
    this.heads.clear();
    this.headsAtGseq = -1;
  }

  /**
   * The log's last gseq. The one this process last wrote or read is used when the log still ends there: two
   * key lookups instead of a reverse cursor (about a fifth of an append's CPU). Exact, since gseqs are
   * gapless: an append by another process, or one of ours whose transaction failed, fails the check.
   */
  private lastGseqInTxn(): number {
    const known = this.knownLastGseq;
    if (known > 0 && this.log.doesExist(known) && !this.log.doesExist(known + 1)) return known;
    for (const key of this.log.getKeys({ reverse: true, limit: 1 })) return (this.knownLastGseq = key as number);
    return 0;
  }

  private assertOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

function warnListenerError(err: unknown): void {
  process.emitWarning(err instanceof Error ? err : String(err), { code: 'PANOS_APPEND_LISTENER' });
}

// `<kind>` or `<kind>:<id>`, each usable as a NATS subject token (STYLE.md §3), so every stored event can be published.
const STREAM_RE = /^[^\s.*>:\x00]+(:[^\s.*>\x00]+)?$/;
// Dot-separated, non-empty segments that are subject tokens: `device.download.started`.
const TYPE_RE = /^[^\s.*>\x00]+(\.[^\s.*>\x00]+)*$/;

function validateStream(stream: string): void {
  if (typeof stream !== 'string' || stream.length > MAX_STREAM_LENGTH || !STREAM_RE.test(stream)) {
    throw new InvalidEventError(`invalid stream name ${JSON.stringify(String(stream).slice(0, 60))}`);
  }
}

function validateEvent(e: NewEvent | PreparedEvent): void {
  if (!e || typeof e.type !== 'string' || !TYPE_RE.test(e.type)) {
    throw new InvalidEventError(`an event needs a dot-separated type without spaces or wildcards, got ${JSON.stringify(e?.type)}`);
  }
  if (e.data === undefined) throw new InvalidEventError(`event ${e.type} has no data`);
  for (const key of ['at', 'runId', 'causationId'] as const) {
    if (e[key] !== undefined && typeof e[key] !== 'string') throw new InvalidEventError(`event ${e.type}: ${key} must be a string`);
  }
  const path = plainJsonViolation(e.data, 'data');
  // msgpack would store a Date, bigint or class instance that JSON (NATS, replies) cannot carry the same way.
  if (path) throw new InvalidEventError(`event ${e.type}: ${path} is not plain JSON`);
}

/** The path (`data.a[2].b`) of the first value that does not survive a JSON round trip unchanged, or undefined. */
function plainJsonViolation(value: unknown, root: string): string | undefined {
  const keys = violationIn(value, []);
  return keys && root + keys.reverse().map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
}

/**
 * The keys down to the first value JSON would not carry unchanged, innermost first (the path is spelt only
 * for a bad event: a snapshot holds thousands of values). `ancestors`: the objects above, for cycles.
 */
function violationIn(value: unknown, ancestors: object[]): Array<string | number> | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : [];
  if (typeof value !== 'object' || ancestors.includes(value)) return [];
  const isArray = Array.isArray(value);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (!isArray && proto !== Object.prototype && proto !== null) return [];
  ancestors.push(value);
  if (isArray) {
    for (let i = 0; i < value.length; i++) {
      const bad = violationIn(value[i], ancestors);
      if (bad) return (bad.push(i), bad);
    }
  } else {
    for (const k of Object.keys(value)) {
      const bad = violationIn((value as Record<string, unknown>)[k], ancestors);
      if (bad) return (bad.push(k), bad);
    }
  }
  ancestors.pop();
  return undefined;
}
