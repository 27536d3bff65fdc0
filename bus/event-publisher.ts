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

/**
 * Publish durable events on `panos.evt.<kind>.<id>.<rest>`, with `Nats-Msg-Id: <stream>:<seq>` so that
 * JetStream drops the duplicates a republish after a crash would make.
 * Hand it to `store.onAppend`, which calls it only after the events are on disk.
 */
export function eventPublisher(nc: NatsConnection, subjects: Subjects, onError?: (err: unknown) => void) {
  return (events: readonly PublishableEvent[]): void => {
    if (nc.isClosed()) return;
    for (const e of events) {
      try {
        const h = headers();
        h.set('Nats-Msg-Id', `${e.stream}:${e.seq}`);
        if (e.runId) h.set('panos-run-id', e.runId);
        if (e.causationId) h.set('panos-causation-id', e.causationId);
        nc.publish(subjects.event(e.stream, e.type), JSON.stringify(e), { headers: h });
      } catch (err) {
        onError?.(err);
      }
    }
  };
}
