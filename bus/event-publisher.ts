import { headers, type NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from './subjects.ts';

/** The envelope fields the publisher needs; structurally the event store's EventEnvelope. */
export interface PublishableEvent {
  gseq: number;
  stream: string;
  seq: number;
  type: string;
  runId?: string;
  causationId?: string;
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
 * Publish durable events on `panos.evt.<kind>.<id>.<rest>`, with `Nats-Msg-Id: <stream>:<seq>` so that
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
        h.set('Nats-Msg-Id', `${e.stream}:${e.seq}`);
        if (e.runId) h.set('panos-run-id', e.runId);
        if (e.causationId) h.set('panos-causation-id', e.causationId);
        nc.publish(subject(e), JSON.stringify(busCopy ? busCopy(e) : e), { headers: h });
      } catch (err) {
        onError?.(err);
      }
    }
  };
}
