import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Subjects } from './subjects.ts';

/** The JetStream stream that keeps `<prefix>.evt.>`: `PANOS_EVT` for the default prefix. */
export function eventStreamName(subjects: Subjects): string {
  const suffix = subjects.prefix === 'panos' ? '' : `_${subjects.prefix.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  return `PANOS_EVT${suffix}`;
}

/**
 * Make sure the JetStream stream capturing every event exists, so that a subscriber who was away can
 * catch up (`nats stream view PANOS_EVT`). Bounded by age and size; `Nats-Msg-Id` (eventMessageId)
 * drops the duplicates a republish after a crash would make. The LMDB log stays the record: this is
 * a convenience for NATS clients, so a server without JetStream only gets a `false`.
 */
export async function ensureEventStream(nc: NatsConnection, subjects: Subjects, options: { maxAgeDays?: number; maxBytes?: number } = {}): Promise<boolean> {
  const name = eventStreamName(subjects);
  try {
    const jsm = await jetstreamManager(nc);
    try {
      await jsm.streams.info(name);
      return true;
    } catch {
      await jsm.streams.add({
        name,
        subjects: [subjects.allEvents()],
        max_age: (options.maxAgeDays ?? 7) * 86_400 * 1e9,
        max_bytes: options.maxBytes ?? 1024 ** 3,
        duplicate_window: 120 * 1e9,
      });
      return true;
    }
  } catch {
    return false;
  }
}
