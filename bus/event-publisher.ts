import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from './subjects.ts';

/** The envelope fields the publisher needs; structurally the event store's EventEnvelope. */
export interface PublishableEvent {
  gseq: number;
  stream: string;
  seq: number;
  type: string;
  /** When it was written (the writer's clock): with the run id, what tells two logs' events apart. */
  at?: string;
  runId?: string;
  causationId?: string;
}

/**
 * The event's JetStream message id: `<stream>:<seq>`, then the run that wrote it and when. A republish
 * of the same event after a crash has the same id (the log keeps the run and time it was written in), so
 * JetStream drops it; the same stream and seq from another log (the daemon's and the simulator's `api`
 * streams, or a log started afresh within the duplicate window) is another event and is kept.
 */
export function eventMessageId(e: PublishableEvent): string {
  return `${e.stream}:${e.seq}${e.runId ? `:${e.runId}` : ''}${e.at ? `@${e.at}` : ''}`;
}

const MAX_CACHED_SUBJECTS = 4096;

export interface EventPublisherOptions {
  /** A publish that failed (a closed connection is skipped silently). */
  onError?: (err: unknown) => void;
  /**
   * What the bus carries of an event, when it is not the stored envelope itself: the event log is the
   * record, the bus is for watching (eventstore's `busCopyOf` leaves the answers' text out of call batches).
   */
  busCopy?: <E extends PublishableEvent>(e: E) => object;
}

/**
 * Publish durable events on `panos.evt.<kind>.<id>.<rest>`, with `Nats-Msg-Id` (eventMessageId) so that
 * JetStream drops the duplicates a republish after a crash would make.
 * Hand it to `store.onAppend`, which calls it only after the events are on disk.
 */
export function eventPublisher(nc: NatsConnection, subjects: Subjects, options: EventPublisherOptions = {}) {
  const { onError, busCopy } = options;
  // The subject of a (stream, type) pair, checked once: a busy daemon or gateway publishes on the same
  // few over and over. Bounded, so that many device streams cannot grow it.
  const subjectOf = new Map<string, string>();
  const subject = (e: PublishableEvent): string => {
    const key = `${e.stream}\n${e.type}`;
    let s = subjectOf.get(key);
    if (s === undefined) {
      s = subjects.event(e.stream, e.type);
      if (subjectOf.size >= MAX_CACHED_SUBJECTS) subjectOf.clear();
      subjectOf.set(key, s);
    }
    return s;
  };
  return (events: readonly PublishableEvent[]): void => {
    if (nc.isClosed()) return;
    for (const e of events) {
      try {
        const h = headers();
        h.set('Nats-Msg-Id', eventMessageId(e));
        if (e.runId) h.set('panos-run-id', e.runId);
        if (e.causationId) h.set('panos-causation-id', e.causationId);
        nc.publish(subject(e), JSON.stringify(busCopy ? busCopy(e) : e), { headers: h });
      } catch (err) {
        onError?.(err);
      }
    }
  };
}
