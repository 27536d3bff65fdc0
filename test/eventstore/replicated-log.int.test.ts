import test from 'ava';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { ensureLogStream, jetStreamLogTransport, logStreamName, LogStreamError, Subjects, type JetStreamLogTransport } from '../../bus/index.ts';
import { ConcurrencyError, LogCatchUpError, LogConflictError, ProjectionMismatchError, ReplicatedLog, type LmdbEventStore } from '../../eventstore/index.ts';
import { logProblems, openTestStore, startTestNats, uniquePrefix, waitFor } from '../helpers/index.ts';
import { startTestNatsCluster } from '../helpers/nats-cluster.ts';

const cluster = startTestNatsCluster(test);
const single = startTestNats(test);

async function openLog(nc: NatsConnection, subjects: Subjects, store: LmdbEventStore, writer: string, t: { teardown(fn: () => unknown): void }): Promise<ReplicatedLog> {
  const log = await ReplicatedLog.open(store, jetStreamLogTransport(nc, subjects), { writer });
  t.teardown(() => log.close());
  return log;
}

/**
 * The real transport, except that a message of the `n`th read (counted from 1) is dropped while
 * `quiet(n)` says so: a consumer gone quiet with its NATS node, delivering nothing and reporting nothing.
 */
function quietReads(real: JetStreamLogTransport, quiet: (read: number) => boolean): { transport: JetStreamLogTransport; reads: () => number } {
  let reads = 0;
  const transport: JetStreamLogTransport = {
    ...real,
    read(fromSeq, signal) {
      const n = ++reads;
      const inner = real.read(fromSeq, signal);
      return {
        async *[Symbol.asyncIterator]() {
          for await (const m of inner) if (!quiet(n)) yield m;
        },
      };
    },
  };
  return { transport, reads: () => reads };
}

const counterFold = { initialState: () => ({ n: 0, types: [] as string[] }), evolve: (s: { n: number; types: string[] }, e: { type: string }) => ({ n: s.n + 1, types: [...s.types, e.type] }) };

test('replicated log: an append is stored as one replicas-3 log entry, then projected into LMDB with the same seq, gseq, snapshot and epoch', async (t) => {
  const nc = await cluster.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const info = await ensureLogStream(nc, subjects, { replicas: 3 });
  t.is(info.config.num_replicas, 3);
  const store = openTestStore(t, { runId: 'r1' });
  const log = await openLog(nc, subjects, store, 'daemon-a', t);
  t.true(store.replicated);

  const stored = await store.append('job:42', [{ type: 'job.submitted', data: { device: '0079' } }, { type: 'job.started', data: {} }], { snapshot: { state: 'running' }, epoch: 7 });
  t.deepEqual(stored.map((e) => [e.gseq, e.seq, e.type, e.runId, e.epoch]), [
    [1, 1, 'job.submitted', 'r1', 7],
    [2, 2, 'job.started', 'r1', 7],
  ]);
  t.deepEqual(store.readStream('job:42'), stored);
  t.deepEqual(store.getSnapshot('job:42'), { seq: 2, gseq: 2, state: { state: 'running' } });
  t.is(log.position, 1);

  // The log holds it: one message on the stream's subject, with both events.
  const jsm = await jetstreamManager(nc);
  const m = await jsm.streams.getMessage(logStreamName(subjects), { last_by_subj: subjects.log('job:42') });
  const entry = m!.json<{ stream: string; seq: number; events: Array<{ type: string }>; epoch: number; writer: string }>();
  t.is(entry.stream, 'job:42');
  t.is(entry.seq, 1);
  t.deepEqual(entry.events.map((e) => e.type), ['job.submitted', 'job.started']);
  t.is(entry.epoch, 7);
  t.is(entry.writer, 'daemon-a');

  // A local expectedSeq check still refuses before anything is published.
  await t.throwsAsync(store.append('job:42', [{ type: 'job.x', data: {} }], { expectedSeq: 1 }), { instanceOf: ConcurrencyError });
  t.is((await jsm.streams.info(logStreamName(subjects))).state.messages, 1);
  t.deepEqual(logProblems(store), []);
});

test('replicated log: two writers at the same head of one stream race; exactly one append wins, the other gets LogConflictError and writes nothing', async (t) => {
  const subjects = new Subjects(uniquePrefix());
  const ncA = await cluster.connect(t, 'writer-a');
  const ncB = await cluster.connect(t, 'writer-b');
  await ensureLogStream(ncA, subjects, { replicas: 3 });
  const a = openTestStore(t);
  const b = openTestStore(t);
  const logA = await openLog(ncA, subjects, a, 'a', t);
  const logB = await openLog(ncB, subjects, b, 'b', t);
  await a.append('job:race', [{ type: 'job.submitted', data: {} }]);
  await waitFor(() => b.streamHead('job:race') === 1, 10_000);

  for (let round = 0; round < 5; round++) {
    // Both at the head: each has applied everything in the log (the last winner may be either).
    await logA.catchUp();
    await logB.catchUp();
    t.is(b.streamHead('job:race'), a.streamHead('job:race'));
    const results = await Promise.allSettled([
      a.append('job:race', [{ type: 'job.stepped', data: { by: 'a', round } }]),
      b.append('job:race', [{ type: 'job.stepped', data: { by: 'b', round } }]),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    t.is(won.length, 1, `round ${round}: one winner`);
    t.is(lost.length, 1, `round ${round}: one loser`);
    t.true(lost[0]!.reason instanceof LogConflictError, String(lost[0]!.reason));
    t.true(lost[0]!.reason instanceof ConcurrencyError);
    t.regex((lost[0]!.reason as Error).message, /another writer appended/);
  }
  await logA.catchUp();
  await logB.catchUp();
  const sa = a.readStream('job:race');
  const sb = b.readStream('job:race');
  t.is(sa.length, 6, 'the first event and one per round');
  t.deepEqual(sb, sa, 'both projections hold the same stream');
  t.deepEqual(
    sa.slice(1).map((e) => (e.data as { round: number }).round),
    [0, 1, 2, 3, 4],
  );
  // A loser is refused by JetStream (expected last subject sequence) or, where a racing publish slipped
  // through (nats-server < 2.9.21, issue #4320), void in log order in every projection.
  const jsm = await jetstreamManager(ncA);
  const messages = (await jsm.streams.info(logStreamName(subjects))).state.messages;
  const voids = Array.from({ length: messages }, (_, i) => i + 1).filter((s) => a.isVoidEntry(s));
  t.deepEqual(voids, Array.from({ length: messages }, (_, i) => i + 1).filter((s) => b.isVoidEntry(s)), 'both projections void the same entries');
  t.is(messages - voids.length, 6, 'nothing of a loser is in a projection');
  t.log(`${messages} log entries, ${voids.length} void`);
});

test('replicated log: a daemon started with an empty data dir rebuilds the projection from the log: same events, gseq, snapshots and folds', async (t) => {
  const nc = await cluster.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 3 });
  const first = openTestStore(t, { runId: 'first' });
  await openLog(nc, subjects, first, 'first', t);
  for (let i = 0; i < 30; i++) {
    await first.append(`job:${i % 4}`, [{ type: 'job.stepped', data: { i } }], i % 3 === 0 ? { snapshot: { i } } : {});
    if (i % 5 === 0) await first.append('campaign:c1', [{ type: 'campaign.wave', data: { i } }]);
  }

  const second = openTestStore(t, { runId: 'second' });
  t.is(second.lastGseq(), 0);
  const log2 = await openLog(nc, subjects, second, 'second', t);
  t.is(log2.position, first.projectionPosition().logSeq);
  t.deepEqual([...second.readAll()], [...first.readAll()]);
  for (const s of [...first.streamNames()]) {
    t.deepEqual(second.fold(s, counterFold), first.fold(s, counterFold), s);
    t.deepEqual(second.getSnapshot(s), first.getSnapshot(s), s);
  }
  t.deepEqual(logProblems(second), []);

  // The rebuilt daemon writes on: its appends continue the streams; the first sees them.
  await second.append('job:1', [{ type: 'job.resumed', data: {} }]);
  await waitFor(() => first.streamHead('job:1') === second.streamHead('job:1'), 10_000);
  t.deepEqual(first.readStream('job:1').at(-1)?.type, 'job.resumed');
});

test('replicated log: a data dir that is behind catches up when the log is opened again, and applying an entry twice changes nothing', async (t) => {
  const nc = await cluster.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 3 });
  const writer = openTestStore(t);
  await openLog(nc, subjects, writer, 'w', t);
  const reader = openTestStore(t);
  const log = await openLog(nc, subjects, reader, 'r', t);
  await writer.append('job:a', [{ type: 'job.one', data: {} }]);
  await waitFor(() => reader.streamHead('job:a') === 1, 10_000);
  await log.close();
  t.false(reader.replicated);
  for (let i = 0; i < 5; i++) await writer.append('job:a', [{ type: 'job.more', data: { i } }]);
  t.is(reader.streamHead('job:a'), 1, 'closed: it does not follow');

  // Applying an entry it already has is a no-op.
  const before = reader.lastGseq();
  const again = await reader.applyEntries([{ logSeq: 1, own: false, entry: { v: 1, id: 'x', stream: 'job:a', seq: 1, events: [{ type: 'job.one', data: {}, at: new Date().toISOString() }] } }]);
  t.deepEqual(again, [[]]);
  t.is(reader.lastGseq(), before);

  await openLog(nc, subjects, reader, 'r', t);
  t.is(reader.streamHead('job:a'), 6);
  t.deepEqual([...reader.readAll()], [...writer.readAll()]);
});

test('replicated log: a retried publish with the same message id is stored once (duplicate), not refused as a conflict', async (t) => {
  const nc = await cluster.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 3 });
  const transport = jetStreamLogTransport(nc, subjects);
  const data = new TextEncoder().encode('{}');
  const first = await transport.publish('job:d', data, { expectedLastLogSeq: 0, msgId: 'job:d:1:abc', timeoutMs: 5_000 });
  const retry = await transport.publish('job:d', data, { expectedLastLogSeq: 0, msgId: 'job:d:1:abc', timeoutMs: 5_000 });
  t.like(first, { ok: true, duplicate: false });
  t.like(retry, { ok: true, duplicate: true });
  t.is((retry as { logSeq: number }).logSeq, (first as { logSeq: number }).logSeq);
  const other = await transport.publish('job:d', data, { expectedLastLogSeq: 0, msgId: 'job:d:1:other', timeoutMs: 5_000 });
  t.deepEqual(other, { ok: false, conflict: true });
});

test('replicated log: a data dir written by a single-server daemon, or by another log, is refused with a clear error', async (t) => {
  const nc = await cluster.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 3 });
  const local = openTestStore(t);
  await local.append('job:old', [{ type: 'job.submitted', data: {} }]);
  const err = await t.throwsAsync(ReplicatedLog.open(local, jetStreamLogTransport(nc, subjects)), { instanceOf: ProjectionMismatchError });
  t.regex(err!.message, /written without the replicated log/);
  t.false(local.replicated);

  const other = new Subjects(uniquePrefix());
  await ensureLogStream(nc, other, { replicas: 3 });
  const projected = openTestStore(t);
  const log = await ReplicatedLog.open(projected, jetStreamLogTransport(nc, subjects));
  await projected.append('job:x', [{ type: 'job.submitted', data: {} }]);
  await log.close();
  const err2 = await t.throwsAsync(ReplicatedLog.open(projected, jetStreamLogTransport(nc, other)), { instanceOf: ProjectionMismatchError });
  t.regex(err2!.message, /is a projection of PANOS_LOG_/);
});

test('single server: the log stream has one replica; three replicas are refused with a hint', async (t) => {
  const nc = await single.connect(t);
  const subjects = new Subjects(uniquePrefix());
  const err = await t.throwsAsync(ensureLogStream(nc, subjects, { replicas: 3 }), { instanceOf: LogStreamError });
  t.regex(err!.message, /set cluster\.replicas to 1 on a single server/);
  const info = await ensureLogStream(nc, subjects, { replicas: 1 });
  t.is(info.config.num_replicas, 1);
  const store = openTestStore(t);
  await openLog(nc, subjects, store, 'solo', t);
  const [e] = await store.append('job:1', [{ type: 'job.submitted', data: { x: 1 } }]);
  t.like(e, { gseq: 1, seq: 1, type: 'job.submitted' });
});

test('replicated log: two daemons appending to a shared stream (api) at the same time both succeed: a lost race is retried after catching up', async (t) => {
  const subjects = new Subjects(uniquePrefix());
  const ncA = await cluster.connect(t, 'writer-a');
  const ncB = await cluster.connect(t, 'writer-b');
  await ensureLogStream(ncA, subjects, { replicas: 3 });
  const a = openTestStore(t);
  const b = openTestStore(t);
  const logA = await openLog(ncA, subjects, a, 'a', t);
  const logB = await openLog(ncB, subjects, b, 'b', t);
  const writes = Array.from({ length: 15 }, (_, i) => [
    a.append('api', [{ type: 'api.call.recorded', data: { by: 'a', i } }]),
    b.append('api', [{ type: 'api.call.recorded', data: { by: 'b', i } }]),
  ]).flat();
  const results = await Promise.allSettled(writes);
  t.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), []);
  await logA.catchUp();
  await logB.catchUp();
  t.is(a.streamHead('api'), 30);
  t.deepEqual(b.readStream('api'), a.readStream('api'));
});

test('replicated log: appends to one stream that queue up while one is in flight go as one entry; each caller gets its own events, in call order', async (t) => {
  const nc = await cluster.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 3 });
  const store = openTestStore(t);
  const log = await openLog(nc, subjects, store, 'g', t);
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => store.append('api', [{ type: 'api.call.recorded', data: { i } }, { type: 'api.call.recorded', data: { i, second: true } }])));
  results.forEach((events, i) => {
    t.deepEqual(events.map((e) => [e.seq, (e.data as { i: number }).i]), [
      [2 * i + 1, i],
      [2 * i + 2, i],
    ]);
  });
  t.is(store.streamHead('api'), 80);
  t.true(log.position < 40, `${log.position} entries for 40 appends`);
  // An append with expectedSeq starts an entry of its own and is checked against the head the earlier ones left.
  const [a, b] = await Promise.allSettled([
    store.append('job:g', [{ type: 'job.submitted', data: {} }]),
    store.append('job:g', [{ type: 'job.started', data: {} }], { expectedSeq: 1 }),
  ]);
  t.is(a.status, 'fulfilled');
  t.is(b.status, 'fulfilled');
  await t.throwsAsync(
    Promise.all([store.append('job:g', [{ type: 'job.x', data: {} }]), store.append('job:g', [{ type: 'job.y', data: {} }], { expectedSeq: 2 })]),
    { instanceOf: ConcurrencyError },
  );
  t.deepEqual(store.readStream('job:g').map((e) => e.type), ['job.submitted', 'job.started', 'job.x']);
});

test('replicated log: a reader that goes quiet (its consumer gone with a NATS node, nothing delivered, nothing reported) is reopened by catchUp, which otherwise gives up with LogCatchUpError', async (t) => {
  const nc = await single.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 1 });
  const writer = openTestStore(t);
  const writerLog = await openLog(nc, subjects, writer, 'daemon-a', t);
  await writer.append('job:1', [{ type: 'job.submitted', data: {} }]);
  // The follower's transport is the real one, except that its reads deliver nothing while `quiet` is set.
  let quiet = false;
  const { transport, reads } = quietReads(jetStreamLogTransport(nc, subjects), () => quiet);
  const follower = openTestStore(t);
  const followerLog = await ReplicatedLog.open(follower, transport, { writer: 'daemon-b' });
  t.teardown(() => followerLog.close());
  t.is(followerLog.position, 1);
  quiet = true;
  await writer.append('job:1', [{ type: 'job.started', data: {} }]);
  t.is(writerLog.position, 2);
  const readsBefore = reads();
  const err = await t.throwsAsync(followerLog.catchUp({ timeoutMs: 600 }), { instanceOf: LogCatchUpError });
  t.regex(err!.message, /stands at entry 1 of 2/);
  t.true(reads() > readsBefore, 'the quiet reader was reopened');
  // Once reads deliver again, catchUp's reopening brings the projection up to the log.
  quiet = false;
  t.is(await followerLog.catchUp({ timeoutMs: 6_000 }), 2);
  t.deepEqual(follower.readStream('job:1').map((e) => e.type), ['job.submitted', 'job.started']);
});

test('replicated log: opening with a reader that stands still reopens it, and gives up with LogCatchUpError instead of waiting for ever; one that moves again is caught up', async (t) => {
  const nc = await single.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 1 });
  const writer = openTestStore(t);
  await openLog(nc, subjects, writer, 'daemon-a', t);
  await writer.append('job:1', [{ type: 'job.submitted', data: {} }]);
  await writer.append('job:1', [{ type: 'job.started', data: {} }]);
  // The real transport, except that the first `quiet` reads deliver nothing and report nothing.
  const real = jetStreamLogTransport(nc, subjects);
  const quietly = (quiet: number): ReturnType<typeof quietReads> => quietReads(real, (n) => n <= quiet);

  const never = quietly(Infinity);
  const stuck = openTestStore(t);
  const err = await t.throwsAsync(ReplicatedLog.open(stuck, never.transport, { writer: 'daemon-b', stallMs: 150 }), { instanceOf: LogCatchUpError });
  t.regex(err!.message, /stands at entry 0 of 2/);
  t.is(never.reads(), 3, 'the first read and two reopenings, then it gave up');
  t.false(stuck.replicated, 'the store is not left attached to a log that was never caught up');

  const once = quietly(1);
  const follower = openTestStore(t);
  const followerLog = await ReplicatedLog.open(follower, once.transport, { writer: 'daemon-c', stallMs: 150 });
  t.teardown(() => followerLog.close());
  t.is(followerLog.position, 2);
  t.is(once.reads(), 2);
  t.deepEqual(follower.readStream('job:1').map((e) => e.type), ['job.submitted', 'job.started']);
});

test('replicated log: a publish that landed but whose answer was lost, retried and refused as a conflict (a new stream leader does not see the duplicate), resolves with its own events, stored once', async (t) => {
  const nc = await single.connect(t);
  const subjects = new Subjects(uniquePrefix());
  await ensureLogStream(nc, subjects, { replicas: 1 });
  // The real transport, except that the first publish's answer is lost and the retry is not recognised
  // as a duplicate (as after a leader change): the log then refuses it as a conflict.
  const real = jetStreamLogTransport(nc, subjects);
  let publishes = 0;
  const transport: typeof real = {
    ...real,
    async publish(stream, data, options) {
      publishes++;
      if (publishes === 1) {
        await real.publish(stream, data, options);
        return { ok: false, conflict: false, error: new Error('no answer: the node went away') };
      }
      return real.publish(stream, data, { ...options, msgId: `${options.msgId}-unseen` });
    },
  };
  const store = openTestStore(t, { runId: 'r1' });
  const log = await ReplicatedLog.open(store, transport, { writer: 'daemon-a' });
  t.teardown(() => log.close());
  const stored = await store.append('job:1', [{ type: 'job.submitted', data: {} }]);
  t.is(publishes, 2, 'the retry was refused as a conflict');
  t.deepEqual(stored.map((e) => [e.seq, e.type]), [[1, 'job.submitted']]);
  t.deepEqual(store.readStream('job:1').map((e) => e.type), ['job.submitted'], 'stored once');
  const after = await store.append('job:1', [{ type: 'job.started', data: {} }]);
  t.deepEqual(after.map((e) => e.seq), [2]);
  t.deepEqual(logProblems(store), []);
});
