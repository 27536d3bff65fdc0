import { busCopyOf } from '../eventstore/call-batches.ts';
import { busCopyOfJobFact } from '../machines/upgrade-job.fold.ts';

/**
 * What NATS carries of an event of the log (`eventPublisher`'s `busCopy`), for the daemon, the simulator
 * and the demo alike: call batches without the answers' text (eventstore's `busCopyOf`), snapshots with
 * each area's count (`busCopyOfJobFact`), every other event as it is stored. The bus is for watching;
 * the log is the record, and keeps everything.
 */
export function busCopy<E extends { type: string; data?: unknown }>(e: E): E {
  return busCopyOfJobFact(busCopyOf(e));
}
