/**
 * The LMDB event log: append (durable before it resolves, group commit), read a stream, read all
 * after a position, tail live, fold, snapshots.
 *
 * @example
 * ```ts
 * const store = LmdbEventStore.open({ path: dir, runId });
 * await store.append('job:42', [{ type: 'job.submitted', data: { device } }]);
 * const state = store.fold('job:42', jobStatusFold);
 * ```
 */
export * from './call-batches.ts';
export * from './errors.ts';
export * from './types.ts';
export * from './lmdb-event-store.ts';
export * from './replicated-log.ts';
export * from './run-id.ts';
