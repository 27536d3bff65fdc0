import type { ExecutionContext } from 'ava';
import { LmdbEventStore, type EventStoreOptions } from '../../eventstore/lmdb-event-store.ts';
import { API_CALL_SERVED, oneEventPerCall } from '../../gateway/api-recorder.ts';
import { tempDir } from './temp-dir.ts';

/** An LmdbEventStore in a fresh temp dir (or at `options.path`), closed in the test's teardown. */
export function openTestStore(t: ExecutionContext, options: Partial<EventStoreOptions> = {}): LmdbEventStore {
  const store = LmdbEventStore.open({ path: options.path ?? tempDir(t, 'panos-lmdb-'), ...options });
  t.teardown(() => store.close());
  return store;
}

/** The calls a gateway served, recorded in `store`'s `api` stream: one event per call (batches unpacked), in order. */
export function servedCallEvents(store: Pick<LmdbEventStore, 'readStream'>): ReturnType<LmdbEventStore['readStream']> {
  return oneEventPerCall(store.readStream('api')).filter((e) => e.type === API_CALL_SERVED);
}

/**
 * Everything that breaks the log's invariants, as readable lines (empty when the log is sound):
 * gseq runs 1..N without gaps, each stream's seq runs 1..n in gseq order, and every log entry is indexed
 * by its stream key and every stream key points at a log entry (no torn record).
 */
export function logProblems(store: LmdbEventStore): string[] {
  const problems: string[] = [];
  const seqs = new Map<string, number>();
  let expectedGseq = 0;
  for (const e of store.readAll()) {
    expectedGseq += 1;
    if (e.gseq !== expectedGseq) problems.push(`log: gseq ${e.gseq} where ${expectedGseq} was expected`);
    expectedGseq = e.gseq;
    const seq = (seqs.get(e.stream) ?? 0) + 1;
    if (e.seq !== seq) problems.push(`${e.stream}: seq ${e.seq} at gseq ${e.gseq} where ${seq} was expected`);
    seqs.set(e.stream, e.seq);
    const indexed = store.readStream(e.stream, { fromSeq: e.seq, toSeq: e.seq });
    if (indexed.length !== 1 || indexed[0]?.gseq !== e.gseq) {
      problems.push(`${e.stream}:${e.seq}: log entry gseq ${e.gseq} is not indexed by its stream key`);
    }
  }
  if (store.lastGseq() !== expectedGseq) problems.push(`lastGseq ${store.lastGseq()} but the log ends at ${expectedGseq}`);
  const names = [...store.streamNames()];
  for (const stream of names) {
    const head = store.streamHead(stream);
    const events = store.readStream(stream);
    if (events.length !== head) problems.push(`${stream}: head ${head} but ${events.length} indexed events have a log entry`);
    if (seqs.get(stream) !== head) problems.push(`${stream}: head ${head} but the log has ${seqs.get(stream) ?? 0} events`);
  }
  for (const stream of seqs.keys()) {
    if (!names.includes(stream)) problems.push(`${stream}: in the log but not in streamNames()`);
  }
  return problems;
}
