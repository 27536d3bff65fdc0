/**
 * One envelope for every fact in the log (DESIGN.md "Events").
 * `data` is plain JSON so the same bytes go to LMDB and NATS.
 */
export interface EventEnvelope<Type extends string = string, Data = unknown> {
  /** Global position, strictly increasing across all streams, starting at 1. */
  gseq: number;
  /** `job:<id>`, `device:<serial>`, `sim:<serial>`, `run:<id>` or `api`. */
  stream: string;
  /** Position within the stream, gapless, starting at 1. */
  seq: number;
  /** Past tense, dot-namespaced, starting with the stream kind: `job.submitted`. */
  type: Type;
  /** ISO-8601 time from the writer's injected clock. */
  at: string;
  data: Data;
  runId?: string;
  causationId?: string;
  /** The lease epoch under which the writer appended it (cluster mode, docs/cluster.md). */
  epoch?: number;
}

/** What a caller hands to `append`; the store assigns `gseq`, `seq` and (unless given) `at`. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  at?: string;
  runId?: string;
  causationId?: string;
}

export interface AppendOptions {
  /** The stream's current head; when it differs, the append fails with ConcurrencyError and writes nothing. */
  expectedSeq?: number;
  /** Stored in the same transaction as the events: the actor state that follows them. */
  snapshot?: unknown;
  /** The writer's lease epoch, recorded on every event of the append (cluster mode). */
  epoch?: number;
}

/** An event ready to be stored: validated, with its time and run id filled in. */
export interface PreparedEvent {
  type: string;
  data: unknown;
  at: string;
  runId?: string;
  causationId?: string;
}

/** One append as the replicated log carries it: every event of one `append` call, atomically. */
export interface LogEntry {
  /** Format version. */
  v: 1;
  /** Unique per append attempt: the JetStream message id, so a retried publish is stored once. */
  id: string;
  stream: string;
  /** The stream seq of the first event (head + 1 when it was written). */
  seq: number;
  events: PreparedEvent[];
  snapshot?: unknown;
  epoch?: number;
  /** The daemon that wrote it. */
  writer?: string;
}

/** A log entry at its position in the replicated log. */
export interface PositionedEntry {
  /** The entry's sequence in the replicated log (JetStream stream sequence), from 1, gapless. */
  logSeq: number;
  entry: LogEntry;
  /** Written by this process: the store's append listeners hear about it (as about any local append). */
  own: boolean;
}

/** Where an `append` goes when the log is replicated: the store hands it prepared events. */
export interface LogWriter {
  append(stream: string, events: PreparedEvent[], options: AppendOptions): Promise<EventEnvelope[]>;
}

export interface StoredSnapshot<State = unknown> {
  seq: number;
  gseq: number;
  state: State;
}

/** Emmett-style fold: pure `evolve` over an initial state. */
export interface Fold<State, Event extends EventEnvelope = EventEnvelope> {
  initialState: () => State;
  evolve: (state: State, event: Event) => State;
}

/** The kind of a stream: the part of its name before the first colon. */
export function streamKind(stream: string): string {
  const i = stream.indexOf(':');
  return i < 0 ? stream : stream.slice(0, i);
}

/** The id of a stream: the part after the first colon, or '-' for a stream without one. */
export function streamId(stream: string): string {
  const i = stream.indexOf(':');
  return i < 0 ? '-' : stream.slice(i + 1);
}
